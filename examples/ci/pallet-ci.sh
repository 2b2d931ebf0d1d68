#!/bin/sh
# The docker pallet commands of the CI recipes (gitlab-ci.yml, github-actions.yml), one step per
# job; the end-to-end suite runs this very script. The job's docker CLI reaches the engine
# (DOCKER_HOST=ssh://deploy@host, a context, or the runner's own engine) and the image is one it
# can pull (pushed by the job before). Settings, from the CI's variables:
#   PALLET_IMAGE    the image of this commit (registry.example.org/shop:0a1b2c3)
#   PALLET_PREVIEW  the preview's environment (pr-42), for preview and close
#   PALLET_SOURCE   what previews copy, settings and data (staging)
#   PALLET_DOMAIN   previews answer at PALLET_PREVIEW.PALLET_DOMAIN through the edge
#   PALLET_TTL      how long an idle preview lives (3d)
#   PALLET_TARGET   what a tag releases to (prod)
set -eu
step="${1:?usage: pallet-ci.sh test|preview|close|prune|release}"
case "$step" in
    test)
        docker pallet test "$PALLET_IMAGE"
        ;;
    preview)
        # Made once per merge request, with a copy of the source's data; each push after that
        # releases the new image into it, and keeps it alive for another PALLET_TTL.
        if docker pallet env show "$PALLET_PREVIEW" >/dev/null 2>&1; then
            docker pallet env update "$PALLET_PREVIEW" --ttl "$PALLET_TTL"
        else
            docker pallet env create "$PALLET_PREVIEW" --from "$PALLET_SOURCE" --data \
                --ttl "$PALLET_TTL" --site-domain "$PALLET_PREVIEW.$PALLET_DOMAIN" --port none
        fi
        docker pallet release "$PALLET_PREVIEW" "$PALLET_IMAGE"
        ;;
    close)
        # The merge request is merged or closed: its preview goes with its data.
        if docker pallet env show "$PALLET_PREVIEW" >/dev/null 2>&1; then
            docker pallet rm "$PALLET_PREVIEW" --volumes
        fi
        ;;
    prune)
        docker pallet env prune
        ;;
    release)
        docker pallet release "$PALLET_TARGET" "$PALLET_IMAGE"
        ;;
    *)
        echo "pallet-ci.sh: unknown step $step (test, preview, close, prune or release)" >&2
        exit 2
        ;;
esac
