#!/bin/sh
# Installs, once, the Debian packages that a build or a test run needs on this machine, so that the
# README's two commands need nothing else first. Run by guests/Guests.targets before every build that
# imports it; when nothing is missing it only looks the commands up.
#
#   host-packages.sh [--apt-lists] COMMAND=PACKAGE[,PACKAGE...]... /PATH=PACKAGE[,PACKAGE...]...
#
# A package is needed when its COMMAND is not on the PATH, or its /PATH (a header, say) does not exist. --apt-lists also needs apt's package lists
# (the stock Linux guest is fetched with apt-get download, which reads them). As root the script
# installs what is missing (apt-get update first when the lists are missing or stale); otherwise it
# prints one line saying what to run and fails.
set -eu

lists=
missing=
for arg in "$@"; do
    case "$arg" in
    --apt-lists) lists=1 ;;
    /*=*)
        [ -e "${arg%%=*}" ] || missing="$missing $(echo "${arg#*=}" | tr , ' ')"
        ;;
    *=*)
        command -v "${arg%%=*}" >/dev/null 2>&1 || missing="$missing $(echo "${arg#*=}" | tr , ' ')"
        ;;
    *) echo "actors: host-packages.sh: bad argument '$arg'" >&2; exit 2 ;;
    esac
done

have_lists() { ls /var/lib/apt/lists/ 2>/dev/null | grep -q '_Packages'; }
need_lists=
[ -n "$lists" ] && ! have_lists && need_lists=1
[ -z "$missing" ] && [ -z "$need_lists" ] && exit 0

if [ "$(id -u)" != 0 ]; then
    if [ -n "$missing" ]; then
        echo "actors: this needs the Debian packages$missing: run 'sudo apt-get update && sudo apt-get install -y --no-install-recommends$missing' once" >&2
    else
        echo "actors: apt has no package lists to fetch the stock Linux guest from: run 'sudo apt-get update' once" >&2
    fi
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
if [ -n "$need_lists" ]; then
    apt-get update -qq
fi
if [ -n "$missing" ]; then
    echo "actors: installing Debian packages:$missing" >&2
    # Lists from an older day may name versions the mirror no longer has: refresh them once and retry.
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
        { apt-get update -qq && apt-get install -y -qq --no-install-recommends $missing >/dev/null; } ||
        { echo "actors: 'apt-get install$missing' failed" >&2; exit 1; }
fi
