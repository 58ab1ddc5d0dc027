#!/usr/bin/env python3
"""check-style.py: the repository's files as .editorconfig and .clang-format say they are.

- every tracked text file (data under fuzz/corpus, tests/data and models aside): UTF-8, LF line
  ends, a final newline, no trailing spaces (Markdown aside), no tabs in C, JS, Python, JSON,
  HTML and CSS;
- every C file and header (src, include, tests, bench, fuzz): unchanged by clang-format (Debian's
  clang-format 14, .clang-format at the top).
Prints each problem (file:line) and a summary; exit 1 when there is one.
"""
import os, shutil, subprocess, sys

DATA = ("fuzz/corpus/", "tests/data/", "models/", "web/vendor/")
NO_TABS = (".c", ".h", ".js", ".mjs", ".ts", ".py", ".json", ".html", ".css")


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    os.chdir(root)
    files = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True).stdout.split()
    problems, text_files = [], 0
    for f in files:
        if f.startswith(DATA) or not os.path.isfile(f):
            continue
        raw = open(f, "rb").read()
        if b"\0" in raw[:8192] or f.endswith((".png", ".gz", ".pack", ".wasm")):
            continue
        text_files += 1
        try:
            s = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            problems.append(f"{f}: not UTF-8 ({e})")
            continue
        if "\r" in s:
            problems.append(f"{f}: CR line ends")
        if s and not s.endswith("\n"):
            problems.append(f"{f}: no final newline")
        for i, line in enumerate(s.split("\n"), 1):
            if line.rstrip(" \t") != line and not f.endswith(".md"):
                problems.append(f"{f}:{i}: trailing whitespace")
            if "\t" in line and f.endswith(NO_TABS):
                problems.append(f"{f}:{i}: tab")
    cfiles = [f for f in files if f.endswith((".c", ".h")) and not f.startswith(DATA)]
    fmt = shutil.which("clang-format-14") or shutil.which("clang-format")
    if not fmt:
        problems.append("clang-format not found (scripts/setup.sh installs it)")
    else:
        for f in cfiles:
            r = subprocess.run([fmt, "--style=file", "--dry-run", "--Werror", f], capture_output=True, text=True)
            if r.returncode:
                first = next((l for l in r.stderr.splitlines() if "error:" in l), r.stderr.strip()[:200])
                n = r.stderr.count("error:")
                problems.append(f"{first}  ({n} place(s); run: {os.path.basename(fmt)} -i {f})")
    for p in problems[:200]:
        print(p)
    print(f"check-style: {text_files} text files, {len(cfiles)} C files checked with "
          f"{os.path.basename(fmt) if fmt else 'no clang-format'}: "
          f"{'ok' if not problems else str(len(problems)) + ' problem(s)'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
