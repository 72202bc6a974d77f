"""The remediation catalogue's snippet rules (``secscan.policy.remediation`` applies them to every
helper and fix it loads): snippets are printable ASCII, never ``exit`` (it would end the officer's
whole script), hold no block whose end line cannot be indented, declare no ``param`` (PowerShell:
the script does), and a check only reads and returns what the engine needs. One set of rules per
language: PowerShell 5.1 for Windows fixes, POSIX sh for Linux ones. The grammar itself is checked
by the tests (tree-sitter-powershell; ``sh -n`` and shellcheck).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["snippet_code", "snippet_problems"]

# A check only reads. These start a change: a cmdlet verb that writes, or a command that does.
_CHANGING_VERBS = ("Set", "New", "Remove", "Disable", "Enable", "Update", "Start", "Stop", "Restart", "Install",
                   "Uninstall", "Add", "Clear", "Rename", "Move", "Copy", "Register", "Unregister", "Invoke", "Write",
                   "Suspend", "Resume", "Reset", "Import", "Mount", "Dismount", "Grant", "Revoke", "Unblock")
_CHANGING = re.compile(
    r"(?<![\w$-])(?:" + "|".join(_CHANGING_VERBS) + r")-[a-z]\w*"
    r"|(?<![\w$-])Out-File\b"
    r"|\bsc(?:\.exe)?\s+(?:config|stop|start|delete|create|failure)\b"
    r"|\bnetsh(?:\.exe)?\b[^\n]*\bset\b"
    r"|\bsecedit(?:\.exe)?\s+/configure\b"
    r"|\breg(?:\.exe)?\s+(?:add|delete|import|restore|load)\b"
    r"|\.(?:Delete|SetValue|DeleteValue|DeleteSubKey\w*|CreateSubKey|Write\w*|Create|Move|Copy)\(",
    re.IGNORECASE,
)
_EXIT = re.compile(r"(?i)(?<![\w$.-])exit\b")
_PARAM = re.compile(r"(?i)(?<![\w$.-])param\s*\(")


def snippet_code(text: str, shell: bool = False) -> str:
    """The snippet without ``#`` comments and single-quoted strings (what the rules look at):
    a comment or a message may say "Set-" or "exit". PowerShell's ``<# #>`` blocks are removed too;
    in ``shell`` code a ``#`` starts a comment only at the start of a word."""
    if not shell:
        text = re.sub(r"<#.*?#>", " ", text, flags=re.S)
    starts = " \t;" if shell else " \t;{}()"
    out = []
    for line in text.splitlines():
        cleaned, quote = [], False
        for i, ch in enumerate(line):
            if quote:
                if ch == "'":
                    quote = False
                continue
            if ch == "'":
                quote = True
                continue
            if ch == "#" and (i == 0 or line[i - 1] in starts):
                break
            cleaned.append(ch)
        out.append("".join(cleaned))
    return "\n".join(out)


def _not_ascii(text: str) -> list[str]:
    bad = sorted({c for c in text if not (c.isascii() and (c.isprintable() or c in "\n\t"))})
    if not bad:
        return []
    shown = ", ".join(f"U+{ord(c):04X}" for c in bad[:5])
    return [f"must be printable ASCII (texts for people go in title or note): found {shown}"]


@dataclass(frozen=True)
class _Rules:
    """One language's snippet rules: what ends the whole script, a block whose end line cannot be
    indented, what a read-only check must not do, and what a check must set."""

    shell: bool
    exit: re.Pattern[str]
    exit_hint: str
    block: re.Pattern[str]
    block_hint: str
    changing: re.Pattern[str]
    returns: tuple[re.Pattern[str], ...]
    returns_hint: str


# POSIX sh snippets (the Linux catalogue). A check only reads: no redirection into a file but
# /dev/null, no command that writes a file, a package or a service.
_SH_CHANGING = re.compile(
    r"(?<![\w.-])(?:rm|mv|cp|ln|tee|touch|mkdir|rmdir|chmod|chown|truncate|install|dd|shred)\b"
    r"|(?<![\w.-])sed\s+(?:-[a-zA-Z]*\s+)*-i"
    r"|\b(?:apt|apt-get|dpkg|dpkg-reconfigure|snap|pip3?)\s+(?:install|remove|purge|upgrade|-i|-r|-P|--configure)\b"
    r"|\bsystemctl\s+(?:enable|disable|start|stop|restart|mask|unmask|reload|daemon-reload)\b"
    r"|>>?\s*(?!/dev/null\b|&[0-9])[^\s&]",
)
_RULES = {
    "windows": _Rules(False, _EXIT, "throw, or return from the block", re.compile(r"(?m)@['\"][ \t]*$"),
                      "a here-string", _CHANGING, (re.compile(r"(?i)\bOk\s*="), re.compile(r"(?i)\bState\s*=")),
                      "a check returns @{ Ok = ...; State = [ordered]@{ ... } }"),
    "linux": _Rules(True, re.compile(r"(?<![\w$.-])exit\b"), "return from the function", re.compile(r"<<"),
                    "a here-document", _SH_CHANGING,
                    (re.compile(r"(?m)(?:^|[\s;])ok="), re.compile(r"(?m)(?:^|[\s;])state=")),
                    "a check sets ok=yes|no and state='key=value ...'"),
}


def snippet_problems(text: str, kind: Literal["check", "apply", "undo", "helper"],
                     platform: Literal["windows", "linux"] = "windows") -> list[str]:
    """Problems of one snippet (empty: fine). The grammar itself is the tests' business
    (tree-sitter-powershell; ``sh -n`` and shellcheck for the Linux ones)."""
    if not text.strip():
        return ["is empty"]
    rules = _RULES[platform]
    problems = _not_ascii(text)
    code = snippet_code(text, shell=rules.shell)
    if rules.block.search(text if not rules.shell else code):
        problems.append(f"holds {rules.block_hint}, whose end line cannot be indented: the script indents snippets")
    if rules.exit.search(code):
        problems.append(f"calls exit, which would end the whole script: {rules.exit_hint}")
    if kind != "helper" and not rules.shell and _PARAM.search(code):
        problems.append("declares param(...): the script declares it ($State for apply, $Before for undo)")
    if kind == "check":
        found = rules.changing.search(code)
        if found:
            problems.append(f"a check only reads, but this one changes something: {found.group(0).strip()!r}")
        if not all(r.search(code) for r in rules.returns):
            problems.append(rules.returns_hint)
    return problems
