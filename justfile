# crawl4ai-telemetry tasks. `just setup` is idempotent: it reinstalls only when pyproject.toml changed.
set shell := ["bash", "-euo", "pipefail", "-c"]

venv := ".venv"
py := venv + "/bin/python"

# Importing crawl4ai's CLI loads litellm, which otherwise tries the internet.
export LITELLM_LOCAL_MODEL_COST_MAP := "True"

# `just` alone lists the recipes.
default:
    @{{just_executable()}} --list --justfile {{justfile()}}

# Create .venv and install the add-on (editable) with everything the tests need.
setup:
    test -x {{py}} || python3 -m venv {{venv}}
    # _hook.py is copied into site-packages at install time: a change to it needs a reinstall too.
    if [ ! -f {{venv}}/.setup-stamp ] || [ pyproject.toml -nt {{venv}}/.setup-stamp ] \
        || [ crawl4ai/telemetry/_hook.py -nt {{venv}}/.setup-stamp ]; then \
        {{py}} -m pip install -q --upgrade pip && \
        {{py}} -m pip install -q -e '.[test]' && \
        touch {{venv}}/.setup-stamp; \
    fi

# Debian's Chromium for the real-browser crawls (tests/crawl4ai/browser.py). Idempotent and quick
# when present; as root it installs with apt (`apt-get update` only if the package is unknown).
# Elsewhere it says how, and those tests skip with that reason.
chromium:
    if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then exit 0; fi; \
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
        echo "chromium: not installed (as root: apt-get install chromium); browser tests will skip"; exit 0; fi; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-cache show chromium >/dev/null 2>&1 || apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends chromium >/dev/null

# Same rules as chromium: as root it installs with apt; elsewhere those tests skip with that reason.
# Debian's redis-server for Crawl4AI's real API server in tests/server (its image runs one too).
redis:
    if command -v redis-server >/dev/null; then exit 0; fi; \
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then \
        echo "redis-server: not installed (as root: apt-get install redis-server); Crawl4AI server tests will skip"; exit 0; fi; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-cache show redis-server >/dev/null 2>&1 || apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends redis-server >/dev/null

# The whole test suite (what CI runs).
test *ARGS: setup chromium redis
    {{py}} -m pytest -n 2 --dist loadgroup {{ARGS}}

# (The demo has its own light venv: the add-on and what it needs, not the test stack.)
# A real crawl4ai crawl whose internal failure is captured, redacted and shown (light venv).
demo:
    test -x .venv-demo/bin/python || python3 -m venv .venv-demo
    if [ ! -f .venv-demo/.setup-stamp ] || [ pyproject.toml -nt .venv-demo/.setup-stamp ]; then \
        .venv-demo/bin/python -m pip install -q -e . && touch .venv-demo/.setup-stamp; \
    fi
    .venv-demo/bin/python -m crawl4ai.telemetry.demo

# Ratio-printing benchmarks.
bench: setup
    {{py}} benchmarks/run.py

# The same benchmarks against this tree and REF (default: a81b90f, the last round's base), in
# alternating child processes, ROUNDS times: each measure's median in both, and the ratio.
# ONLY: a comma-separated list of measures (e.g. first_capture,capture); all by default.
bench-compare REF="a81b90f" ROUNDS="3" ONLY="": setup
    {{py}} benchmarks/compare.py {{REF}} {{ROUNDS}} "{{ONLY}}"

# Mutation testing (not part of `test`: minutes): each small break listed in mutate/mutations.py
# (privacy rules, consent gate, outbox, exit) applied to a copy of the tree, and whether the
# tests that guard it fail. NAMES: only the mutations whose names contain one of these words.
mutate *NAMES: setup
    {{py}} mutate/run.py {{NAMES}}

lint: setup
    {{py}} -m ruff check crawl4ai tui tests mutate
