"""Reading report files from paths, folders and zip archives (the IT officer's USB stick).

Files are only ever opened for reading; nothing is extracted to disk. A folder yields its
``*.json``, ``*.secscan`` and ``*.zip`` files (recursively, symlinked folders not followed,
hidden files left out); other files are counted as skipped, and so is a Windows deployment kit
found on the stick (``is_kit``). A zip is read member by member with hard limits, so
a zip bomb or a member with a hostile name is rejected with the reason and the rest of the
archive still imported.
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# .secscan: a capture in its signed envelope, as collect.ps1 writes it to a share or a USB stick
REPORT_SUFFIXES = (".json", ".secscan")
ARCHIVE_SUFFIXES = (".zip",)
MAX_RATIO = 100  # JSON compresses ~5-15x; a member expanding more than this is a bomb
MAX_ARCHIVE_TOTAL = 2 * 1024**3  # uncompressed bytes read from one archive


@dataclass
class Source:
    name: str  # file path, or "archive.zip!member/path.json"
    data: bytes | None = None
    error: str | None = None  # set when the bytes could not be read safely
    skipped: bool = False  # a file that is not a report candidate (folder walk only)


def iter_paths(paths: list[str], max_bytes: int) -> Iterator[Source]:
    for given in paths:
        path = Path(given)
        if path.is_dir():
            yield from _walk(path, max_bytes)
        elif path.exists():
            yield from _file(given, max_bytes, explicit=True)
        else:
            yield Source(given, error="no such file or folder")


KIT_CONFIG = "secscan.json"  # a Windows deployment kit's configuration (secscan agent package windows)


def is_kit(folder: str) -> bool:
    """A deployment kit, carried on the same stick as the reports: its files are not reports."""
    try:
        with open(os.path.join(folder, KIT_CONFIG), "rb") as fh:
            return b'"secscan.windows-kit/' in fh.read(4096)
    except OSError:
        return False


def _walk(root: Path, max_bytes: int) -> Iterator[Source]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        if KIT_CONFIG in filenames and is_kit(dirpath):
            dirnames[:] = []
            for name in sorted(filenames):
                yield Source(os.path.join(dirpath, name), skipped=True)
            continue
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            yield from _file(os.path.join(dirpath, name), max_bytes, explicit=False)


def _file(path: str, max_bytes: int, explicit: bool) -> Iterator[Source]:
    # Plain strings and os calls, not pathlib: this runs once per report of a 10,000-file import.
    lower = os.path.basename(path).lower()
    if lower.endswith(ARCHIVE_SUFFIXES):
        yield from _zip(Path(path), max_bytes)
        return
    if not explicit and not lower.endswith(REPORT_SUFFIXES):
        yield Source(path, skipped=True)
        return
    try:
        if not explicit and os.path.islink(path):
            # a link inside a folder being imported could point anywhere (another user's files,
            # /dev): only files really in the folder are read; a link named on the command line is
            yield Source(path, error="symbolic link inside the folder: not followed")
            return
        st = os.stat(path)  # before opening: opening a FIFO or a device could block or never end
        if not stat.S_ISREG(st.st_mode):
            yield Source(path, error="not a regular file")
            return
        if st.st_size > max_bytes:
            yield Source(path, error=f"file is {st.st_size} bytes, over the limit of {max_bytes}")
            return
        with open(path, "rb", buffering=0) as fh:
            # Sized by the stat: a read of max_bytes + 1 allocates (and zeroes pages of) a 4 MiB
            # buffer for every 3 kB report, 3x the time of the read itself (measured). One byte
            # more than the stat says shows a file that grew meanwhile; then read on to the limit.
            data = fh.read(min(st.st_size, max_bytes) + 1)
            if len(data) > st.st_size:
                data += fh.read(max_bytes + 1 - len(data))
    except OSError as exc:
        yield Source(path, error=f"cannot read: {exc.strerror or exc}")
        return
    if len(data) > max_bytes:
        yield Source(path, error=f"file grew over the limit of {max_bytes} bytes while read")
        return
    yield Source(path, data)


def unsafe_member_name(name: str) -> str | None:
    """Why a zip member name is unsafe, or None. We never extract, but a name that would escape
    the folder on extraction marks an archive made to attack someone; its content is refused."""
    if "\x00" in name:
        return "NUL byte in the name"
    normal = name.replace("\\", "/")
    if normal.startswith("/") or (len(normal) > 1 and normal[1] == ":"):
        return "absolute path"
    if ".." in PurePosixPath(normal).parts:
        return "'..' in the path"
    return None


def _zip(path: Path, max_bytes: int) -> Iterator[Source]:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        yield Source(str(path), error=f"not a readable zip archive: {exc}")
        return
    total = 0
    with zf:
        for info in zf.infolist():
            name = f"{path}!{info.filename}"
            if info.is_dir():
                continue
            why = unsafe_member_name(info.filename)
            if why:
                yield Source(name, error=f"unsafe member name in zip ({why})")
                continue
            lower = info.filename.lower()
            if lower.endswith(ARCHIVE_SUFFIXES):
                yield Source(name, error="zip inside a zip: unpack the outer archive first")
                continue
            if not lower.endswith(REPORT_SUFFIXES) or PurePosixPath(info.filename).name.startswith("."):
                yield Source(name, skipped=True)
                continue
            if info.flag_bits & 0x1:
                yield Source(name, error="encrypted zip member")
                continue
            if info.file_size > max_bytes:
                yield Source(name, error=f"zip member expands to {info.file_size} bytes, over the limit of {max_bytes}")
                continue
            if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                yield Source(name, error=f"zip member expands {info.file_size // info.compress_size}x "
                                         f"(limit {MAX_RATIO}x): a zip bomb?")
                continue
            if total + info.file_size > MAX_ARCHIVE_TOTAL:
                yield Source(name, error=f"archive expands to over {MAX_ARCHIVE_TOTAL} bytes: rest refused")
                return
            try:
                with zf.open(info) as fh:
                    data = fh.read(max_bytes + 1)  # the header may lie: never read past the limit
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
                yield Source(name, error=f"cannot read zip member: {exc}")
                continue
            if len(data) > max_bytes:
                yield Source(name, error=f"zip member expands over the limit of {max_bytes} bytes "
                                         "(its header understated the size)")
                continue
            total += len(data)
            yield Source(name, data)


def count(paths: list[str]) -> int:
    """How many sources ``iter_paths`` will yield, without reading them (a progress bar's total)."""
    n = 0
    for given in paths:
        path = Path(given)
        files = [path]
        if path.is_dir():
            files = []
            for dirpath, dirnames, filenames in os.walk(path, followlinks=False):
                dirnames[:] = [d for d in dirnames if not d.startswith(".")]
                files += [Path(dirpath) / f for f in filenames if not f.startswith(".")]
        for f in files:
            if f.name.lower().endswith(ARCHIVE_SUFFIXES):
                try:
                    with zipfile.ZipFile(f) as zf:
                        n += sum(1 for i in zf.infolist() if not i.is_dir())
                except (zipfile.BadZipFile, OSError):
                    n += 1
            else:
                n += 1
    return n
