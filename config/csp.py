"""Content-Security-Policy additions, each for the few responses that need it."""

# The shopper's camera scanner falls back to zxing-wasm, which compiles WebAssembly. This is
# 'wasm-unsafe-eval' (WebAssembly only), never 'unsafe-eval'; only pages with the scanner get it.
SCANNER_CSP = {"script-src": ["'wasm-unsafe-eval'"]}
