#!/usr/bin/env bash
# Debian's ffmpeg: the demo seed renders real clips with it and the video tests probe
# real files (without it they fall back to images / skip). Optional: never fails CI.
set -uo pipefail
command -v ffmpeg >/dev/null && exit 0
if [ "$(id -u)" = 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg >/dev/null \
    || echo "ffmpeg could not be installed; video tests that need it will skip"
fi
exit 0
