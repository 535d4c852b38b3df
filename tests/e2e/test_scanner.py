"""The in-page camera scanner (static/js/scanner.js) in Chromium with a fake camera.

Chromium plays a video file as its camera (--use-file-for-fake-video-capture); each test
writes one, a Y4M file whose frames show an EAN-13 drawn bar by bar (tests/catalog/test_scanning.py)
or a shelf label's QR code, on a noisy background. The flag is per browser, so these tests
launch their own browsers rather than using conftest's ``browser``.

Decoding: Chromium on Linux has no BarcodeDetector, so the native path is tested for real only
where the browser has one (skipped here, with the reason); its wiring is also tested with a
stand-in detector. The zxing-wasm fallback is tested for real, under the page's CSP.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import qrcode
from django.test import Client
from PIL import Image, ImageFilter
from playwright.sync_api import expect

from catalog.services.stock import stock_move
from merchants.models import Store
from tests.catalog.factories import StoreProductFactory
from tests.catalog.test_scanning import _background, _ean13
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, CSP_RECORDER, PHONE, WatchedPage
from tests.e2e.test_shell import assert_no_horizontal_overflow

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIDEO_SIZE = (1280, 720)  # what scanner.js asks for (ideal), as a landscape camera delivers it
FAKE_UI = "--use-fake-ui-for-media-stream"  # answers the camera prompt with "Allow"
FAKE_DEVICE = "--use-fake-device-for-media-stream"

# Chromium on Linux has no BarcodeDetector; the fallback test takes it away everywhere else.
NO_BARCODE_DETECTOR = "delete window.BarcodeDetector;"

# A stand-in for a platform BarcodeDetector: it "reads" a fixed code, but only from a canvas
# that shows a camera frame (not blank), and records what it was asked for.
STUB_BARCODE_DETECTOR = """
window.__detector = {formats: null, calls: 0};
window.BarcodeDetector = class {
  static async getSupportedFormats() {
    return ["aztec", "code_128", "ean_13", "ean_8", "qr_code", "upc_a", "upc_e"];
  }
  constructor(options) { window.__detector.formats = options.formats; }
  async detect(source) {
    window.__detector.calls += 1;
    window.__detector.size = [source.width, source.height];
    const pixels = source.getContext("2d").getImageData(0, 0, source.width, source.height).data;
    let low = 255, high = 0;
    for (let i = 0; i < pixels.length; i += 4 * 97) {
      low = Math.min(low, pixels[i]);
      high = Math.max(high, pixels[i]);
    }
    return window.__stubCode && high - low > 100 ? [{rawValue: window.__stubCode, format: "ean_13"}] : [];
  }
};
"""

# Keeps every stream the page opens, so a test can see that Close stopped its tracks.
KEEP_STREAMS = """
window.__streams = [];
const getUserMedia = MediaDevices.prototype.getUserMedia;
MediaDevices.prototype.getUserMedia = function (constraints) {
  return getUserMedia.call(this, constraints).then((stream) => { window.__streams.push(stream); return stream; });
};
"""


# ---------- The fake camera ----------


def _frame(code: Image.Image) -> Image.Image:
    """``code`` on a white label in the middle of a noisy 1280x720 frame, slightly soft."""
    frame = _background(VIDEO_SIZE)
    label = Image.new("RGB", (code.width + 60, code.height + 60), "white")
    label.paste(code.convert("RGB"), (30, 30))
    frame.paste(label, ((frame.width - label.width) // 2, (frame.height - label.height) // 2))
    return frame.filter(ImageFilter.GaussianBlur(0.7))


def _qr(text: str) -> Image.Image:
    code = qrcode.QRCode(box_size=8, border=4)
    code.add_data(text)
    return code.make_image().get_image().convert("L")


def _write_y4m(path: Path, image: Image.Image, *, frames: int = 3) -> Path:
    """A YUV4MPEG2 (4:2:0) video of ``image``; Chromium loops it as the camera's picture."""
    width, height = image.size
    y, cb, cr = image.convert("YCbCr").split()
    half = (width // 2, height // 2)
    planes = (
        y.tobytes() + cb.resize(half, Image.Resampling.BOX).tobytes() + cr.resize(half, Image.Resampling.BOX).tobytes()
    )
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + planes)
    return path


# ---------- Browsers and pages ----------


@pytest.fixture(scope="module")
def playwright() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as instance:
        yield instance


class CameraPage(WatchedPage):
    """A watched page that also remembers the URL of every request it made."""

    def __init__(self, page: Any) -> None:
        super().__init__(page)
        self.requests: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))

    def requested(self, name: str) -> list[str]:
        return [url for url in self.requests if url.split("?")[0].endswith(name)]

    def assert_only_from(self, base_url: str) -> None:
        """Nothing came from anywhere but this site (no CDN for zxing-wasm's .wasm)."""
        assert [url for url in self.requests if not url.startswith((base_url, "data:", "blob:"))] == []


@pytest.fixture
def open_phone(playwright: Any) -> Iterator[Callable[..., CameraPage]]:
    """open_phone(args, init_scripts=()) -> a CameraPage on a phone, in a browser of its own."""
    browsers: list[Any] = []

    def open_(args: list[str], init_scripts: tuple[str, ...] = ()) -> CameraPage:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS + args, headless=True)
        browsers.append(browser)
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=3)
        context.set_default_timeout(15_000)
        context.add_init_script(CSP_RECORDER)
        for script in init_scripts:
            context.add_init_script(script)
        return CameraPage(context.new_page())

    yield open_
    for browser in browsers:
        browser.close()


def _camera(tmp_path: Path, image: Image.Image) -> list[str]:
    return [FAKE_UI, FAKE_DEVICE, f"--use-file-for-fake-video-capture={_write_y4m(tmp_path / 'camera.y4m', image)}"]


def _directive(policy: str, name: str) -> list[str]:
    for directive in policy.split(";"):
        words = directive.split()
        if words and words[0] == name:
            return words[1:]
    return []


@pytest.fixture
def shopper_csp(settings: Any, store: Store) -> str:
    """The shopper page's policy, with 'wasm-unsafe-eval' in script-src, as zxing-wasm needs.

    Until the shopper views send it themselves (csp_update on store_landing and photo_scan),
    this adds it for the duration of the test, to the whole site's policy (test-only: django-csp
    reads the setting on every response, the live server's thread included).
    """
    policy = Client().get(f"/s/{store.code}/")["Content-Security-Policy"]
    if "'wasm-unsafe-eval'" not in _directive(policy, "script-src"):
        config = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
        config["DIRECTIVES"]["script-src"].append("'wasm-unsafe-eval'")
        settings.CONTENT_SECURITY_POLICY = config
        policy = Client().get(f"/s/{store.code}/")["Content-Security-Policy"]
    return policy


@pytest.fixture
def cola(merchant: Any, store: Store) -> Any:
    item = StoreProductFactory(store=store, price=249, product__name="Quellwerk Cola", product__content_amount="0.5")
    stock_move(merchant=merchant, store_product_id=item.pk, kind="receipt", quantity=10)
    return item


def _open_store(watched: WatchedPage, base_url: str, store: Store) -> Any:
    response = watched.page.goto(f"{base_url}/s/{store.code}/")
    assert response is not None
    assert response.status == 200
    return response


def _scan(watched: WatchedPage) -> None:
    page = watched.page
    button = page.get_by_role("button", name="Scan with the camera")
    expect(button).to_be_visible()
    button.click()  # the view opens, but a fast decode may have left the page already


def _assert_on_product(watched: WatchedPage, url: str, name: str) -> None:
    watched.page.wait_for_url(url)
    card = watched.page.locator(".product-card")
    expect(card.get_by_role("heading", level=1)).to_have_text(name)
    expect(card.locator(".price")).to_have_text("2,49\xa0€")


# ---------- Decoding ----------


def test_native_barcode_detector_reads_an_ean13_from_the_camera(
    live_server: Any,
    open_phone: Any,
    tmp_path: Path,
    store: Store,
    cola: Any,
    shopper_csp: str,  # noqa: ARG001 - fixture requested for the policy it sets
) -> None:
    ean = cola.product.gtin[1:]
    watched = open_phone(_camera(tmp_path, _frame(_ean13(ean, module=4))))
    _open_store(watched, live_server.url, store)
    native = watched.page.evaluate(
        "async () => 'BarcodeDetector' in window && (await BarcodeDetector.getSupportedFormats()).includes('ean_13')"
    )
    if not native:
        pytest.skip("this Chromium has no BarcodeDetector that reads EAN-13 (Chromium on Linux has none)")

    _scan(watched)

    _assert_on_product(watched, f"{live_server.url}/s/{store.code}/p/{ean}/", "Quellwerk Cola")
    assert watched.requested("zxing_reader.js") == []
    watched.assert_clean()


@pytest.mark.parametrize("code", ["ean13", "label-qr"])
def test_zxing_wasm_reads_the_camera_where_there_is_no_barcode_detector(
    live_server: Any,
    open_phone: Any,
    tmp_path: Path,
    store: Store,
    cola: Any,
    shopper_csp: str,  # noqa: ARG001 - fixture requested for the policy it sets
    code: str,
) -> None:
    if code == "ean13":
        looked_up = cola.product.gtin[1:]
        image = _ean13(looked_up, module=4)
    else:
        # The label's QR holds an absolute URL; only its path counts (labels printed elsewhere
        # still work, and a code on a shelf never sends the shopper off this site).
        looked_up = cola.product.gtin
        image = _qr(f"https://labels.example/s/{store.code}/p/{looked_up}/")
    watched = open_phone(_camera(tmp_path, _frame(image)), (NO_BARCODE_DETECTOR,))
    response = _open_store(watched, live_server.url, store)
    script_src = _directive(response.headers["content-security-policy"], "script-src")
    assert "'wasm-unsafe-eval'" in script_src
    assert "'unsafe-eval'" not in script_src
    assert "'unsafe-inline'" not in script_src
    # Loaded only when needed: not with the page.
    assert watched.requested("zxing_reader.js") == []

    _scan(watched)

    _assert_on_product(watched, f"{live_server.url}/s/{store.code}/p/{looked_up}/", "Quellwerk Cola")
    assert len(watched.requested("/static/vendor/zxing_reader.js")) == 1
    assert len(watched.requested("/static/vendor/zxing_reader.wasm")) == 1
    watched.assert_only_from(live_server.url)
    assert_no_horizontal_overflow(watched)
    watched.assert_clean()


def test_a_label_of_another_shop_is_named_and_scanning_goes_on(
    live_server: Any,
    open_phone: Any,
    tmp_path: Path,
    store: Store,
    other_store: Store,
    shopper_csp: str,  # noqa: ARG001 - fixture requested for the policy it sets
) -> None:
    image = _qr(f"https://elsewhere.example/s/{other_store.code}/p/4006381333931/")
    watched = open_phone(_camera(tmp_path, _frame(image)), (NO_BARCODE_DETECTOR,))
    _open_store(watched, live_server.url, store)
    page = watched.page

    _scan(watched)

    expect(page.get_by_role("status")).to_have_text("That label is from another shop.")
    expect(page.locator("[data-scanner-view]")).to_be_visible()
    assert page.url == f"{live_server.url}/s/{store.code}/"
    watched.assert_only_from(live_server.url)
    watched.assert_clean()


def test_barcode_detector_is_used_when_present_and_zxing_is_never_fetched(
    live_server: Any, open_phone: Any, tmp_path: Path, store: Store, cola: Any
) -> None:
    """The native path's wiring, with a stand-in detector: Chromium on Linux has no real one."""
    ean = cola.product.gtin[1:]
    watched = open_phone(
        _camera(tmp_path, _frame(_ean13(ean, module=4))),
        (STUB_BARCODE_DETECTOR, f"window.__stubCode = {ean!r};"),
    )
    _open_store(watched, live_server.url, store)

    _scan(watched)

    _assert_on_product(watched, f"{live_server.url}/s/{store.code}/p/{ean}/", "Quellwerk Cola")
    assert watched.requested("zxing_reader.js") == []
    assert watched.requested("zxing_reader.wasm") == []
    watched.assert_clean()


def test_the_detector_is_asked_for_retail_codes_and_qr_only(
    live_server: Any, open_phone: Any, tmp_path: Path, store: Store
) -> None:
    watched = open_phone(_camera(tmp_path, _background(VIDEO_SIZE)), (STUB_BARCODE_DETECTOR,))
    _open_store(watched, live_server.url, store)
    _scan(watched)
    page = watched.page
    page.wait_for_function("() => window.__detector.calls >= 3")

    assert page.evaluate("window.__detector.formats") == ["ean_13", "ean_8", "upc_a", "upc_e", "qr_code"]
    # Frames reach the decoder downscaled to about 640 x 480 pixels' worth, in the camera's shape.
    camera = page.evaluate(
        "(() => { const v = document.querySelector('video'); return [v.videoWidth, v.videoHeight]; })()"
    )
    width, height = page.evaluate("window.__detector.size")
    assert camera == list(VIDEO_SIZE)
    assert width * height <= 640 * 480
    assert width >= 600
    assert abs(width / height - VIDEO_SIZE[0] / VIDEO_SIZE[1]) < 0.01
    expect(page.get_by_role("status")).to_have_text("Hold the barcode or the shelf label’s QR code inside the frame.")
    watched.assert_clean()


# ---------- The camera's life ----------


def test_close_stops_the_camera(
    live_server: Any,
    open_phone: Any,
    tmp_path: Path,
    store: Store,
    shopper_csp: str,  # noqa: ARG001 - fixture requested for the policy it sets
) -> None:
    watched = open_phone(_camera(tmp_path, _background(VIDEO_SIZE)), (NO_BARCODE_DETECTOR, KEEP_STREAMS))
    _open_store(watched, live_server.url, store)
    page = watched.page
    _scan(watched)
    page.wait_for_function("() => window.__streams.length === 1 && !document.querySelector('video').paused")
    expect(page.locator("[data-scanner-view]")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text("Hold the barcode or the shelf label’s QR code inside the frame.")
    assert_no_horizontal_overflow(watched)

    page.get_by_role("button", name="Close the camera").click()

    expect(page.locator("[data-scanner-view]")).to_be_hidden()
    expect(page.get_by_role("button", name="Close the camera")).to_be_hidden()
    expect(page.get_by_role("button", name="Scan with the camera")).to_be_focused()
    assert page.evaluate("window.__streams[0].getTracks().every((track) => track.readyState === 'ended')")
    assert page.evaluate("document.querySelector('video').srcObject") is None
    watched.assert_clean()


def test_a_denied_camera_is_explained(
    live_server: Any,
    open_phone: Any,
    tmp_path: Path,
    store: Store,
    shopper_csp: str,  # noqa: ARG001 - fixture requested for the policy it sets
) -> None:
    # No FAKE_UI: the browser's prompt is answered "Block" (headless denies it).
    watched = open_phone([arg for arg in _camera(tmp_path, _background(VIDEO_SIZE)) if arg != FAKE_UI])
    _open_store(watched, live_server.url, store)
    page = watched.page
    page.get_by_role("button", name="Scan with the camera").click()

    expect(page.get_by_role("status")).to_contain_text("The camera is blocked for this page.")
    expect(page.locator("[data-scanner-view]")).to_be_hidden()
    expect(page.get_by_role("button", name="Scan with the camera")).to_be_visible()
    expect(page.get_by_label("Barcode number")).to_be_visible()
    watched.assert_clean()


def test_no_camera_is_explained(live_server: Any, open_phone: Any, store: Store, shopper_csp: str) -> None:  # noqa: ARG001 - fixture requested for the policy it sets
    # The prompt is allowed, but there is no camera (none on a test machine, and no fake one).
    watched = open_phone([FAKE_UI])
    _open_store(watched, live_server.url, store)
    page = watched.page
    if page.evaluate(
        "async () => (await navigator.mediaDevices.enumerateDevices()).some((d) => d.kind === 'videoinput')"
    ):
        pytest.skip("this machine has a camera")
    page.get_by_role("button", name="Scan with the camera").click()

    expect(page.get_by_role("status")).to_contain_text("No camera was found on this device.")
    expect(page.locator("[data-scanner-view]")).to_be_hidden()
    watched.assert_clean()


def test_no_scan_button_without_a_camera_api(live_server: Any, open_phone: Any, store: Store) -> None:
    watched = open_phone([], ("delete MediaDevices.prototype.getUserMedia;",))
    _open_store(watched, live_server.url, store)
    page = watched.page

    expect(page.locator("[data-scanner]")).to_be_hidden()
    expect(page.get_by_label("Barcode number")).to_be_visible()
    expect(page.get_by_label("Or take a photo of the barcode")).to_be_visible()
    watched.assert_clean()
