"""sign-pdf: visible signatures (image, typed text, date) and a PAdES signature that pdfsig and pyHanko verify."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import pyvips
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient

from app.db import session_scope
from app.models import Job
from tests.tools.pdf.helpers import download, pdf_text, refused, text_pdf

SIZE = (400.0, 300.0)


def make_p12(password: bytes = b"p12-pass", common_name: str = "Lutra Test Signer") -> tuple[bytes, x509.Certificate]:
    """A self-signed signing certificate and its key, as a PKCS#12 file (made here, never stored)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, True, False, False, False, True, False, False, False), critical=True)
        .sign(key, hashes.SHA256())
    )
    protection = serialization.BestAvailableEncryption(password) if password else serialization.NoEncryption()
    data = pkcs12.serialize_key_and_certificates(b"signer", key, cert, None, protection)
    return data, cert


def signature_png(width: int = 200, height: int = 80) -> bytes:
    """A dark-blue bar on a transparent background."""
    alpha = pyvips.Image.black(width, height).draw_rect(255, 20, 20, width - 40, height - 40, fill=True)
    colour = (pyvips.Image.black(width, height, bands=3) + [10, 20, 160]).cast("uchar")
    return colour.bandjoin(alpha.cast("uchar")).copy(interpretation="srgb").write_to_buffer(".png")


def sign(client: TestClient, settings: dict[str, Any], **parts: tuple[str, bytes]) -> Any:
    files = [("file", ("contract.pdf", text_pdf(2, size=SIZE), "application/pdf"))]
    files += [(field, (name, data, "application/octet-stream")) for field, (name, data) in parts.items()]
    return client.post("/api/v1/tools/pdf/sign-pdf", files=files, data={"settings": json.dumps(settings)})


def page_pixels(data: bytes, page: int = 0) -> pyvips.Image:
    return pyvips.Image.pdfload_buffer(data, page=page, dpi=72).flatten(background=[255, 255, 255])


def test_signature_image_lands_where_asked_with_transparency(av: TestClient) -> None:
    r = sign(av, {"pages": "1-z", "x": 100, "y": 50, "width": 100}, signature=("sig.png", signature_png()))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["pages"], body["digitallySigned"]) == ([1, 2], False)
    out = download(av, body)
    for page in (0, 1):
        image = page_pixels(out, page)
        assert (image.width, image.height) == (400, 300)
        # 200x80 drawn 100 pt wide: 100x40 pt from (100, 50); its inner bar is opaque blue.
        blue = image.getpoint(150, 70)
        assert blue[2] > 120 and blue[0] < 60, blue
        # The transparent margin of the picture leaves the page white.
        assert min(image.getpoint(102, 52)) > 245 and min(image.getpoint(300, 200)) > 245
    # The page's own text is still there.
    assert "PAGE 1" in pdf_text(out)


def test_typed_text_signature_with_date(av: TestClient) -> None:
    settings = {"text": "Ada Lovelace", "font": "serif-italic", "x": 50, "y": 100, "width": 200, "date": True,
                "dateFormat": "%d.%m.%Y", "pages": "z"}  # fmt: skip
    r = sign(av, settings)
    assert r.status_code == 200, r.text
    out = download(av, r.json())
    text = [" ".join(page.split()) for page in pdf_text(out).split("\f")]
    assert "Ada Lovelace" in text[1] and "Ada Lovelace" not in text[0]
    assert dt.datetime.now(dt.UTC).strftime("%d.%m.%Y") in text[1]
    # Ink only inside the signature's box (x 50..250), none elsewhere on the page.
    page = page_pixels(out, 1)
    inside = page.crop(50, 100, 200, 60)
    assert inside.min() < 120
    assert page.crop(260, 100, 140, 60).min() > 245
    # Each font is really a different face: the same text differs in ink.
    other = download(av, sign(av, {**settings, "font": "sans", "date": False}).json())
    assert page_pixels(other, 1).crop(50, 100, 200, 60).avg() != inside.avg()


def test_pades_signature_verified_by_pdfsig_and_pyhanko(av: TestClient, tmp_path: Path) -> None:
    p12, cert = make_p12()
    settings = {"text": "Signed", "certificatePassword": "p12-pass", "reason": "Approval", "location": "Berlin",
                "signerName": "Lutra Test Signer"}  # fmt: skip
    r = sign(av, settings, certificate=("me.p12", p12))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["digitallySigned"], body["signatureLevel"]) == (True, "PAdES-B-B")
    # The certificate's password was used, not stored with the job.
    with session_scope() as db:
        stored = db.get(Job, body["jobId"]).settings
    assert stored["certificatePassword"] == "[redacted]" and stored["reason"] == "Approval"
    signed = tmp_path / "signed.pdf"
    signed.write_bytes(download(av, body))

    report = subprocess.run(["pdfsig", str(signed)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature #1" in report and "Signature Validation: Signature is Valid." in report, report
    assert "Lutra Test Signer" in report and "ETSI.CAdES.detached" in report, report

    from asn1crypto import x509 as asn1_x509
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    trust = ValidationContext(trust_roots=[asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))])
    with signed.open("rb") as handle:
        reader = PdfFileReader(handle)
        (embedded,) = reader.embedded_signatures
        status = validate_pdf_signature(embedded, trust)
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.signing_cert.subject.human_friendly == "Common Name: Lutra Test Signer"
        assert embedded.sig_object["/Reason"] == "Approval"
    # The visible text is part of the signed revision.
    assert "Signed" in pdf_text(signed.read_bytes())

    # A changed byte breaks it.
    tampered = bytearray(signed.read_bytes())
    at = tampered.index(b"PAGE 1") if b"PAGE 1" in tampered else len(tampered) // 3
    tampered[at] ^= 0x01
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(bytes(tampered))
    report = subprocess.run(["pdfsig", str(bad)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature is Valid." not in report


def test_certificate_only_signs_invisibly(av: TestClient, tmp_path: Path) -> None:
    p12, _ = make_p12(b"")
    r = sign(av, {}, certificate=("me.pfx", p12))
    assert r.status_code == 200, r.text
    assert r.json()["pages"] == [] and r.json()["digitallySigned"] is True
    signed = tmp_path / "s.pdf"
    signed.write_bytes(download(av, r.json()))
    report = subprocess.run(["pdfsig", str(signed)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature is Valid." in report, report


@pytest.mark.parametrize(
    ("settings", "parts", "status", "code"),
    [
        ({}, {}, 400, "NOTHING_TO_SIGN"),
        ({"text": "A"}, {"signature": ("s.png", b"png")}, 415, "UNSUPPORTED_MEDIA_TYPE"),
        ({"text": "A", "x": 350, "width": 100}, {}, 422, "SIGNATURE_OUT_OF_PAGE"),
        ({"text": "A", "pages": "3"}, {}, 400, "PAGE_OUT_OF_RANGE"),
        ({"text": "A", "font": "comic"}, {}, 400, "VALIDATION_ERROR"),
        ({"certificatePassword": "wrong"}, {"certificate": "p12"}, 400, "INVALID_CERTIFICATE"),
        ({}, {"certificate": ("c.p12", b"not a certificate at all")}, 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
def test_refusals(av: TestClient, settings: dict, parts: dict, status: int, code: str) -> None:
    if parts.get("certificate") == "p12":
        parts = {"certificate": ("c.p12", make_p12()[0])}
    body = refused(sign(av, settings, **parts), status, code)
    if code == "SIGNATURE_OUT_OF_PAGE":
        assert "page 1, which is 400x300 pt" in body["error"]


def test_image_and_text_together_are_refused(av: TestClient) -> None:
    r = sign(av, {"text": "A"}, signature=("sig.png", signature_png()))
    refused(r, 400, "SIGNATURE_CONFLICT")
