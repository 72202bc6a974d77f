"""identity.resolve on its own (no database): the matching rules, one by one."""

from __future__ import annotations

from secscan.collector.identity import Facts, Index, resolve, usable_mac

MAC_A, MAC_B, MAC_C = "3c:52:82:00:00:0a", "3c:52:82:00:00:0b", "3c:52:82:00:00:0c"


def test_usable_macs():
    assert usable_mac(MAC_A)
    assert not usable_mac("02:42:ac:11:00:02")  # locally administered (docker)
    assert not usable_mac("00:00:00:00:00:00") and not usable_mac(None)


def test_machine_id_with_shared_mac_or_name_is_the_same_host():
    index = Index()
    first = resolve(index, Facts("mid-1", {MAC_A}, "KT-01", "xa-a"))
    assert resolve(index, Facts("mid-1", {MAC_A}, "KETOAN-01", "xa-a")) is first  # renamed
    assert resolve(index, Facts("mid-1", {MAC_B}, "KETOAN-01", "xa-a")) is first  # new NIC
    assert resolve(index, Facts("mid-1", set(), "OTHER", "xa-a")) is first  # no MAC to tell them apart
    assert first.macs == {MAC_A, MAC_B} and not first.clone_suspect


def test_same_machine_id_other_mac_and_name_is_a_clone():
    index = Index()
    first = resolve(index, Facts("mid-1", {MAC_A}, "KT-01", "xa-a"))
    clone = resolve(index, Facts("mid-1", {MAC_C}, "VP-02", "xa-a"))
    assert clone is not first and clone.clone_of == first.id
    assert first.clone_suspect and clone.clone_suspect and clone.identity_key is None
    assert resolve(index, Facts("mid-1", {MAC_C}, "VP-02", "xa-a")) is clone  # the clone again


def test_without_machine_id_mac_then_hostname_in_unit():
    index = Index()
    pc = resolve(index, Facts(None, {MAC_A}, "KT-01", "xa-a"))
    assert resolve(index, Facts(None, {MAC_A}, "RENAMED", "xa-a")) is pc
    bare = resolve(index, Facts(None, set(), "VP-09", "xa-a"))
    assert resolve(index, Facts(None, set(), "vp-09", "xa-a")) is bare  # case-insensitive name
    assert resolve(index, Facts(None, set(), "VP-09", "xa-b")) is not bare  # another unit's VP-09
    assert resolve(index, Facts(None, {MAC_C}, "KT-01", "xa-a")) is not pc  # same name, other MACs


def test_old_host_adopts_its_machine_id():
    index = Index()
    old = resolve(index, Facts(None, {MAC_A}, "KT-01", "xa-a"))  # an older agent: no machine id
    assert resolve(index, Facts("mid-9", {MAC_A}, "KT-01", "xa-a")) is old
    assert old.machine_id == old.identity_key == "mid-9"


def test_new_host_ids_are_uuid7_in_time_order():
    import time
    import uuid

    from secscan.collector.identity import new_host_id

    first = new_host_id()
    time.sleep(0.002)
    later = [new_host_id() for _ in range(1000)]
    assert all(uuid.UUID(i).version == 7 and uuid.UUID(i).variant == uuid.RFC_4122 for i in [first, *later])
    assert all(len(i) == 32 for i in later) and len(set(later)) == 1000
    assert all(first < i for i in later)  # later milliseconds sort after: new rows go at the end of the indexes
    assert abs(int(first[:12], 16) / 1000 - time.time()) < 60
