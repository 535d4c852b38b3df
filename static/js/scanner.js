// The in-page camera scanner: on the store page's lookup card (templates/shopper/_lookup_forms.html)
// it opens the product of a barcode or shelf label; on the clerk's exit check
// (templates/dashboard/exit_check.html, data-scanner-mode="pass") it reads the shopper's exit pass
// QR code into the pass field and submits that form.
//
// Progressive enhancement: the card's typed-number and photo forms work without JavaScript;
// this script only shows the "Scan with the camera" button where the browser can open a camera
// (navigator.mediaDevices.getUserMedia, which needs HTTPS or localhost).
//
// Decoding: the browser's own BarcodeDetector where it has one that reads EAN-13 and QR codes
// (Chrome on Android); otherwise the vendored zxing-wasm reader (static/vendor/zxing_reader.js
// and .wasm, about 1 MB), fetched only then, on the first tap. Compiling WebAssembly needs
// 'wasm-unsafe-eval' in the page's script-src.
//
// Old phones: frames are copied to a small canvas (about 640 x 480 pixels' worth) and decoded
// one at a time, the next one DECODE_GAP_MS after the last decode finished, so a slow decoder
// never queues work. The camera is released on Close, on a hit, and when the page is hidden.
//
// Markup (no inline style: only the hidden attribute and classes change):
//   <div data-scanner data-store-code data-zxing-script data-zxing-wasm hidden>
//     (or data-scanner-mode="pass" data-scanner-field="ID of the pass input" instead of data-store-code)
//     <button data-scanner-open>  <div data-scanner-view hidden><video data-scanner-video>
//     <p data-scanner-status>  <button data-scanner-close hidden>
(function () {
  "use strict";

  var DECODE_GAP_MS = 200;
  var MAX_PIXELS = 640 * 480;
  // After this many failed decodes in a row the decoder is broken, not unlucky.
  var MAX_DECODE_ERRORS = 10;
  var VIBRATE_MS = 80;

  var DETECTOR_REQUIRED = ["ean_13", "qr_code"];
  // What each mode reads: retail barcodes and label QR codes for products, QR codes only for passes.
  var FORMATS = {
    product: { detector: ["ean_13", "ean_8", "upc_a", "upc_e", "qr_code"], zxing: ["EAN13", "EAN8", "UPCA", "UPCE", "QRCode"] },
    pass: { detector: ["qr_code"], zxing: ["QRCode"] },
  };
  // An exit pass is a JWT: three base64url parts joined by dots.
  var PASS_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

  var TEXT = {
    starting: "Starting the camera…",
    aim: "Hold the barcode or the shelf label’s QR code inside the frame.",
    found: "Found it. Opening the product…",
    denied:
      "The camera is blocked for this page. Allow the camera in your browser’s site settings and try again, or type the barcode number below.",
    noCamera: "No camera was found on this device. Type the barcode number below or take a photo of it.",
    busy: "The camera could not start: another app may be using it. Close that app and try again.",
    failed: "The camera could not be started. Type the barcode number below or take a photo of it.",
    noDecoder: "The scanner could not be loaded. Type the barcode number below or take a photo of it.",
    decodeFailed: "The scanner stopped working. Type the barcode number below or take a photo of it.",
    ended: "The camera was turned off. Tap “Scan with the camera” to scan again.",
    entrance: "That is the shop’s entrance code. Scan the product’s barcode or its shelf label.",
    otherShop: "That label is from another shop.",
    notProduct: "That code is not a product barcode. Scan the barcode on the pack or the shelf label.",
  };
  // The clerk scans a pass, and has the USB scanner or the pass field when the camera cannot.
  var PASS_TEXT = {
    aim: "Hold the exit pass QR code on the shopper’s phone inside the frame.",
    found: "Pass read. Checking it…",
    denied:
      "The camera is blocked for this page. Allow the camera in your browser’s site settings and try again, or use the USB scanner.",
    noCamera: "No camera was found on this device. Use the USB scanner instead.",
    failed: "The camera could not be started. Use the USB scanner instead.",
    noDecoder: "The scanner could not be loaded. Use the USB scanner instead.",
    decodeFailed: "The scanner stopped working. Use the USB scanner instead.",
    ended: "The camera was turned off. Tap “Scan with the camera” to scan again.",
    notPass: "That is not an exit pass. Scan the QR code on the shopper’s receipt.",
  };

  function ScannerLoadError(message) {
    this.name = "ScannerLoadError";
    this.message = message;
  }
  ScannerLoadError.prototype = Object.create(Error.prototype);

  function errorText(error, text) {
    switch (error && error.name) {
      case "NotAllowedError":
      case "PermissionDeniedError":
      case "SecurityError":
        return text.denied;
      case "NotFoundError":
      case "DevicesNotFoundError":
      case "OverconstrainedError":
        return text.noCamera;
      case "NotReadableError":
      case "TrackStartError":
      case "AbortError":
        return text.busy;
      case "ScannerLoadError":
        return text.noDecoder;
      default:
        return text.failed;
    }
  }

  // ---------- Decoders: function (canvas, context) -> Promise of decoded texts ----------

  function nativeDecoder(formats) {
    if (!("BarcodeDetector" in window) || typeof window.BarcodeDetector.getSupportedFormats !== "function") {
      return Promise.resolve(null);
    }
    return window.BarcodeDetector.getSupportedFormats().then(
      function (supported) {
        var missing = DETECTOR_REQUIRED.filter(function (format) {
          return supported.indexOf(format) < 0;
        });
        if (missing.length) {
          return null;
        }
        var detector;
        try {
          detector = new window.BarcodeDetector({
            formats: formats.filter(function (format) {
              return supported.indexOf(format) >= 0;
            }),
          });
        } catch (error) {
          return null;
        }
        return function (canvas) {
          return detector.detect(canvas).then(function (codes) {
            return codes.map(function (code) {
              return code.rawValue;
            });
          });
        };
      },
      function () {
        return null;
      }
    );
  }

  var zxingLoading = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.async = true;
      script.addEventListener("load", resolve);
      script.addEventListener("error", function () {
        script.remove();
        reject(new ScannerLoadError("could not load " + src));
      });
      document.head.appendChild(script);
    });
  }

  function zxingDecoder(scriptUrl, wasmUrl, formats) {
    var options = {
      formats: formats,
      maxNumberOfSymbols: 1,
      // Printed labels and phone screens are dark on light; skipping inverted codes halves the work per frame.
      tryInvert: false,
    };
    return zxingModule(scriptUrl, wasmUrl).then(function (zxing) {
      return function (canvas, context) {
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        return zxing.readBarcodes(image, options).then(function (results) {
          return results
            .filter(function (result) {
              return result.isValid;
            })
            .map(function (result) {
              return result.text;
            });
        });
      };
    });
  }

  function zxingModule(scriptUrl, wasmUrl) {
    if (!zxingLoading) {
      zxingLoading = (window.ZXingWASM ? Promise.resolve() : loadScript(scriptUrl))
        .then(function () {
          var zxing = window.ZXingWASM;
          if (!zxing || typeof zxing.prepareZXingModule !== "function") {
            throw new ScannerLoadError("zxing_reader.js defined no ZXingWASM");
          }
          // Our copy of the .wasm, never the package's CDN default.
          return zxing
            .prepareZXingModule({
              overrides: {
                locateFile: function (path, prefix) {
                  return /\.wasm$/.test(path) ? wasmUrl : prefix + path;
                },
              },
              fireImmediately: true,
            })
            .then(
              function () {
                return zxing;
              },
              function (error) {
                throw new ScannerLoadError(String(error));
              }
            );
        });
      // A failed load may be a dropped connection: let the next tap try again.
      zxingLoading.catch(function () {
        zxingLoading = null;
      });
    }
    return zxingLoading;
  }

  // ---------- What a decoded code means ----------

  // Returns {url} to open, {pass} to submit, or {note} to show while scanning goes on.
  function interpretPass(text) {
    var value = String(text).trim();
    return PASS_PATTERN.test(value) ? { pass: value } : { note: PASS_TEXT.notPass };
  }

  function interpret(text, storeCode) {
    var value = String(text).trim();
    if (/^\d{8,14}$/.test(value)) {
      return { url: productPath(storeCode, value) };
    }
    if (/^https?:\/\//i.test(value)) {
      var url;
      try {
        url = new URL(value);
      } catch (error) {
        return { note: TEXT.notProduct };
      }
      // Only the path counts: the shelf label's host may be another name of this site, and the
      // shopper is never sent off this site by a code stuck on a shelf.
      var product = /^\/s\/([^/]+)\/p\/([^/]+)\/?$/.exec(url.pathname);
      var shop = /^\/s\/([^/]+)\/?$/.exec(url.pathname);
      var code = product ? product[1] : shop ? shop[1] : null;
      if (code !== null && safeDecode(code).toUpperCase() !== storeCode.toUpperCase()) {
        return { note: TEXT.otherShop };
      }
      if (product) {
        return { url: productPath(storeCode, safeDecode(product[2])) };
      }
      if (shop) {
        return { note: TEXT.entrance };
      }
    }
    return { note: TEXT.notProduct };
  }

  function safeDecode(part) {
    try {
      return decodeURIComponent(part);
    } catch (error) {
      return part;
    }
  }

  function productPath(storeCode, code) {
    return "/s/" + encodeURIComponent(storeCode) + "/p/" + encodeURIComponent(code) + "/";
  }

  // ---------- One scanner on the page ----------

  function setUp(root) {
    var openButton = root.querySelector("[data-scanner-open]");
    var closeButton = root.querySelector("[data-scanner-close]");
    var view = root.querySelector("[data-scanner-view]");
    var video = root.querySelector("[data-scanner-video]");
    var status = root.querySelector("[data-scanner-status]");
    var mode = root.dataset.scannerMode === "pass" ? "pass" : "product";
    var storeCode = root.dataset.storeCode || "";
    var passField = mode === "pass" ? document.getElementById(root.dataset.scannerField || "") : null;
    var text = mode === "pass" ? Object.assign({}, TEXT, PASS_TEXT) : TEXT;
    if (!openButton || !closeButton || !view || !video || !status) {
      return;
    }
    if (mode === "product" ? !storeCode : !passField || !passField.form) {
      return;
    }

    var canvas = document.createElement("canvas");
    // A CPU-backed canvas: getImageData on every frame would otherwise read back from the GPU.
    var context = canvas.getContext("2d", { willReadFrequently: true });
    var decoderLoading = null;
    var session = null; // the open camera: {stream, timer, errors, note}; null when closed

    function say(text, kind) {
      status.textContent = text || "";
      status.classList.toggle("message", Boolean(text));
      status.classList.toggle("message-error", kind === "error");
    }

    function decoder() {
      if (!decoderLoading) {
        decoderLoading = nativeDecoder(FORMATS[mode].detector).then(function (decode) {
          return decode || zxingDecoder(root.dataset.zxingScript, root.dataset.zxingWasm, FORMATS[mode].zxing);
        });
        decoderLoading.catch(function () {
          decoderLoading = null;
        });
      }
      return decoderLoading;
    }

    function release(current) {
      window.clearTimeout(current.timer);
      if (current.stream) {
        current.stream.getTracks().forEach(function (track) {
          track.stop();
        });
      }
    }

    function close() {
      if (session) {
        release(session);
        session = null;
      }
      video.pause();
      video.srcObject = null;
      // The close button is about to disappear: keep keyboard and screen reader focus here.
      var hadFocus = root.contains(document.activeElement);
      view.hidden = true;
      closeButton.hidden = true;
      openButton.hidden = false;
      if (hadFocus) {
        openButton.focus({ preventScroll: true });
      }
    }

    function fail(current, error) {
      if (session !== current) {
        return; // closed meanwhile: nothing to report
      }
      close();
      say(errorText(error, text), "error");
    }

    function open() {
      if (session) {
        return;
      }
      var current = { stream: null, timer: 0, errors: 0, note: "" };
      session = current;
      say(text.starting);
      closeButton.hidden = false;
      view.hidden = false;
      closeButton.focus({ preventScroll: true }); // before the focused open button disappears
      openButton.hidden = true;
      // Both start at once: the decoder downloads while the shopper answers the camera prompt.
      var decoding = decoder();
      decoding.catch(function () {}); // reported below, once the camera is up
      navigator.mediaDevices
        .getUserMedia({
          audio: false,
          video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
        })
        .then(function (stream) {
          if (session !== current) {
            stream.getTracks().forEach(function (track) {
              track.stop();
            });
            return null;
          }
          current.stream = stream;
          stream.getVideoTracks().forEach(function (track) {
            track.addEventListener("ended", function () {
              if (session === current) {
                close();
                say(text.ended);
              }
            });
          });
          video.srcObject = stream;
          return video.play().then(function () {
            return decoding;
          });
        })
        .then(function (decode) {
          if (decode && session === current) {
            say(text.aim);
            view.scrollIntoView({ block: "nearest" });
            scan(current, decode);
          }
        })
        .catch(function (error) {
          fail(current, error);
        });
    }

    function later(current, decode) {
      current.timer = window.setTimeout(function () {
        scan(current, decode);
      }, DECODE_GAP_MS);
    }

    function scan(current, decode) {
      if (session !== current) {
        return;
      }
      var width = video.videoWidth;
      var height = video.videoHeight;
      if (video.readyState < 2 || !width || !height) {
        later(current, decode);
        return;
      }
      var scale = Math.min(1, Math.sqrt(MAX_PIXELS / (width * height)));
      var w = Math.floor(width * scale);
      var h = Math.floor(height * scale);
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      context.drawImage(video, 0, 0, w, h);
      // Through a promise, so that an exception thrown by the decoder counts as a failed decode.
      Promise.resolve()
        .then(function () {
          return decode(canvas, context);
        })
        .then(
        function (texts) {
          if (session !== current) {
            return;
          }
          current.errors = 0;
          for (var i = 0; i < texts.length; i++) {
            var meaning = mode === "pass" ? interpretPass(texts[i]) : interpret(texts[i], storeCode);
            if (meaning.url) {
              found(meaning.url);
              return;
            }
            if (meaning.pass) {
              passFound(meaning.pass);
              return;
            }
            if (meaning.note !== current.note) {
              current.note = meaning.note;
              say(meaning.note);
            }
          }
          later(current, decode);
        },
        function (error) {
          if (session !== current) {
            return;
          }
          current.errors += 1;
          if (current.errors >= MAX_DECODE_ERRORS) {
            close();
            say(text.decodeFailed, "error");
            if (window.console) {
              window.console.warn("scanner: decoding failed", error);
            }
            return;
          }
          later(current, decode);
        }
      );
    }

    function found(url) {
      if (typeof navigator.vibrate === "function") {
        navigator.vibrate(VIBRATE_MS);
      }
      close();
      say(text.found);
      window.location.assign(url);
    }

    // The pass goes through the same form as a USB scanner's, so the server's answer is one page.
    function passFound(token) {
      if (typeof navigator.vibrate === "function") {
        navigator.vibrate(VIBRATE_MS);
      }
      close();
      say(text.found);
      passField.value = token;
      if (typeof passField.form.requestSubmit === "function") {
        passField.form.requestSubmit();
      } else {
        passField.form.submit();
      }
    }

    openButton.addEventListener("click", open);
    closeButton.addEventListener("click", function () {
      close();
      say("");
    });
    // A hidden page keeps the camera (and its light) on for nothing; the shopper taps again.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && session) {
        close();
        say("");
      }
    });
    window.addEventListener("pagehide", close);
    // Back from the product page may show this page from the back-forward cache.
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) {
        say("");
      }
    });

    root.hidden = false;
  }

  if (!navigator.mediaDevices || typeof navigator.mediaDevices.getUserMedia !== "function") {
    return; // no camera API (or not HTTPS): the typed and photo forms remain
  }
  Array.prototype.forEach.call(document.querySelectorAll("[data-scanner]"), setUp);
})();
