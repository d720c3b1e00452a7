"""File-system paths → ``<path>``: Windows (``C:\\…``), UNC (``\\\\server\\share``), home
(``~/…``), absolute and relative paths with two or more segments. The home folder itself is
replaced by ``~`` earlier (:mod:`.local`), so a path under it never shows whose home it is.
"""

from __future__ import annotations

import re

from . import Rule

_PATH_WINDOWS = re.compile(r"(?<![\w])[A-Za-z]:[\\/][^\s'\"<>|*?`]*")
_PATH_UNC = re.compile(r"(?<![\w\\])\\\\[^\s\\'\"<>`]+\\[^\s'\"<>`]*")
_PATH_HOME = re.compile(r"(?<![\w~])~[\w.\-]*/[^\s'\"<>`]*")
_PATH_ABSOLUTE = re.compile(r"(?<![\w.:/<>~\-])/(?=[^\s/'\"<>])[^\s'\"<>:;,()\[\]{}`]*")
_PATH_RELATIVE = re.compile(
    r"(?<![\w./<>\-])[\w.\-]+(?:/[\w.@%+~\-]+){2,}/?"
    r"|(?<![\w./<>\-])[\w.\-]+/[\w.\-]*\.[A-Za-z][A-Za-z0-9]{0,7}(?![\w/])"
)


RULES = (
    Rule("path", _PATH_WINDOWS, "<path>", (":",)),
    Rule("path", _PATH_UNC, "<path>", ("\\\\",)),
    Rule("path", _PATH_HOME, "<path>", ("~",)),
    Rule("path", _PATH_ABSOLUTE, "<path>", ("/",)),
    Rule("path", _PATH_RELATIVE, "<path>", ("/",)),
)
