#!/usr/bin/env python3
"""Writes fnmatch_vectors.json: what Python's fnmatch.fnmatchcase says for
each (glob, name) pair below. fnmatch_test.go checks our translator against it.
Regenerate with: python3 testdata/gen_fnmatch.py > testdata/fnmatch_vectors.json
"""
import fnmatch
import json
import sys
import warnings

warnings.simplefilter("ignore")  # "Possible nested set" FutureWarnings

GLOBS = [
    "", "*", "**", "?", "??", "a*", "*a", "*a*", "a?c", "a*c", "*_file",
    "delete_*", "*_admin", "read_*", "fs/*", "a/*/c", "*.*", "*[*", "\\*",
    "a\\b", "[abc]", "[!abc]", "[a-c]", "[!a-c]", "[z-a]", "[!z-a]",
    "[]]", "[!]]", "[]a]", "[!]a]", "[a-]", "[-a]", "[!-a]", "[a--c]",
    "[--a]", "[!--a]", "[a-c-e]", "[a-cx-z]", "[c-a-e]", "[b-ac]", "[!b-a]",
    "[!]", "[", "[a", "[!", "a[", "[]", "[!]a", "x[!]y", "[\\]", "[\\-a]",
    "[^a]", "[[]", "[[a]", "[&&a]", "[~~a]", "[||a]", "[a-z0-9_]*",
    "tool[0-9][0-9]", "[.]*", ".*", "a.c", "(a)", "a|b", "a+", "a{2}",
    "$a", "^a", "é*", "[é-ü]", "*ü", "[!é]", "a\nb", "*\n*", "[\n]",
    "[*]", "[?]", "[!*]", "*?*?*", "?*?", "[a-c]*[!x-z]", "Delete_*",
    "[b-a-c]", "[a-b-a]", "[---]", "[!---]", "[-]", "[!-]", "[--]",
]

NAMES = [
    "", "a", "b", "c", "d", "x", "z", "!", "-", "]", "[", "^", "\\", "*", "?",
    "&", "~", "|", "/", ".", "\n", "é", "ü", "ñ", "A", "B",
    "ab", "abc", "aXc", "a/c", "a/b/c", "a//c", "ac", "aac", "abcabc",
    "delete_file", "delete_", "Delete_file", "xdelete_file", "user_admin",
    "admin", "read_file", "read", "fs/read", "fs/", "write_file", "_file",
    "file", "tool01", "tool1", "tool0a", "a.c", "abc.", ".", "..",
    "(a)", "a|b", "a+", "aa", "$a", "^a", "éte", "été", "xü", "a\nb",
    "x\ny", "[a", "a[", "[!]", "[]", "x!y", "xy", "x]y", "a\\b", "a]",
    "a-", "-a", "b-", "[*", "q[*", "*[*", "ab1", "abc9z", "abz", "bca",
]

out = []
for g in GLOBS:
    out.append({
        "glob": g,
        "regex": fnmatch.translate(g),
        "matches": [n for n in NAMES if fnmatch.fnmatchcase(n, g)],
    })
json.dump({"python": sys.version.split()[0], "names": NAMES, "globs": out},
          sys.stdout, indent=1, ensure_ascii=True)
sys.stdout.write("\n")
