#!/usr/bin/env bash
# Formats the C++ sources with Debian's clang-format and the repository's .clang-format.
#   scripts/format.sh           rewrites the files that differ
#   scripts/format.sh --check   lists them and fails instead (scripts/test.sh runs this)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
command -v clang-format >/dev/null || { echo "format.sh: clang-format is missing (apt-get install clang-format)" >&2; exit 2; }
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [ "${1:-}" == "--check" ]; then
    differ=()
    for file in "${files[@]}"; do
        clang-format --dry-run -Werror "$file" >/dev/null 2>&1 || differ+=("$file")
    done
    if [ ${#differ[@]} -gt 0 ]; then
        printf 'format.sh: not formatted: %s\n' "${differ[@]}" >&2
        echo "format.sh: run scripts/format.sh (clang-format $(clang-format --version | grep -o '[0-9][0-9.]*' | head -1))" >&2
        exit 1
    fi
    echo "format.sh: ${#files[@]} files formatted" >&2
else
    clang-format -i "${files[@]}"
fi
