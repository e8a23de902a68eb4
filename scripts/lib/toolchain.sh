# The build tools every script needs. Sourced by bootstrap.sh, test.sh, up.sh and check-wheels.sh.
export UV_PYTHON_DOWNLOADS=never  # uv must use the machine's Python; it cannot download one here

# cryptoflow-contracts compiles its hot path (Rust, through maturin), so building it needs cargo: rustup's,
# on every machine of our kind, though not always on a non-login shell's PATH.
if ! command -v cargo >/dev/null 2>&1 && [[ -x "${CARGO_HOME:-$HOME/.cargo}/bin/cargo" ]]; then
  export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: cryptoflow-contracts builds a Rust extension. Install Rust with rustup" \
    "(https://rustup.rs) or put cargo on PATH." >&2
  exit 1
fi
