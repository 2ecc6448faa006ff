"""Support mail read and written (issue 20, the message part): what a user newly wrote, as
Gmail, Outlook, Apple Mail and Thunderbird send it in several languages; HTML mail; encoded
subjects and bodies; attachments byte for byte; automatic mail and bounces told apart from a
person's; a reply that threads; and fuzzing: read_mail never raises, and loses nothing."""

from __future__ import annotations

import base64
import io
import quopri
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from adapters.email_compose import compose_reply, reply_subject
from adapters.email_message import MailAttachment, ReadMail, read_mail, ticket_in_subject

SUPPORT = "Exchange Support <support@exchange.example>"


def mail(body: str | bytes, *, subject: str = "Re: [#T-1001] Deposit", sender: str = "Ana Petrova <Ana@Example.com>",
         content_type: str = "text/plain; charset=utf-8", encoding: str = "8bit", headers: str = "") -> bytes:
    """A raw single-part mail as it comes off the wire (CRLF line ends)."""
    head = (f"From: {sender}\nTo: {SUPPORT}\nSubject: {subject}\nDate: Mon, 07 Dec 2026 10:05:00 +0100\n"
            f"Message-ID: <user-1@mail.example.com>\nMIME-Version: 1.0\nContent-Type: {content_type}\n"
            f"Content-Transfer-Encoding: {encoding}\n{headers}")  # fmt: skip
    data = body.encode("utf-8") if isinstance(body, str) else body
    return (head.rstrip("\n") + "\n\n").replace("\n", "\r\n").encode("utf-8") + data.replace(b"\n", b"\r\n")


def alternative(plain: str | None, html: str | None, headers: str = "") -> bytes:
    """A multipart/alternative mail, as Gmail, Outlook and Apple Mail send a reply."""
    parts = []
    if plain is not None:
        parts.append(f"Content-Type: text/plain; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n{plain}\n")
    if html is not None:
        parts.append(f"Content-Type: text/html; charset=UTF-8\nContent-Transfer-Encoding: 8bit\n\n{html}\n")
    body = "".join(f"--b1\n{part}" for part in parts) + "--b1--\n"
    return mail(body, content_type='multipart/alternative; boundary="b1"', headers=headers)


# --- what the user newly wrote ---------------------------------------------------------------

GMAIL_EN = """Thanks, I found the transaction. It shows 2 confirmations now.

On Mon, Dec 7, 2026 at 10:00 AM Exchange Support <
support@exchange.example> wrote:

> Hello Ana,
>
> Your deposit needs 3 confirmations before it is credited.
>
> --
> Exchange Support
"""
GMAIL_EN_HTML = """<div dir="ltr">Thanks, I found the transaction. It shows 2 confirmations now.</div><br>
<div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Dec 7, 2026 at 10:00 AM Exchange Support &lt;
<a href="mailto:support@exchange.example">support@exchange.example</a>&gt; wrote:<br></div>
<blockquote class="gmail_quote" style="margin:0px 0px 0px 0.8ex;border-left:1px solid rgb(204,204,204)">
<div>Hello Ana,</div><div><br></div><div>Your deposit needs 3 confirmations before it is credited.</div>
</blockquote></div>"""
OUTLOOK_EN = """The deposit arrived, thank you!

Ana Petrova
Trader, Kyiv

________________________________
From: Exchange Support <support@exchange.example>
Sent: Monday, December 7, 2026 10:00 AM
To: Ana Petrova <ana@example.com>
Subject: RE: [#T-1001] Deposit

Hello Ana, your deposit needs 3 confirmations.
"""
OUTLOOK_EN_HTML = """<html><head><style>p.MsoNormal{margin:0cm;}</style></head><body lang="EN-US">
<div class="WordSection1"><p class="MsoNormal">The deposit arrived, thank you!<o:p></o:p></p>
<p class="MsoNormal"><o:p>&nbsp;</o:p></p></div>
<div id="appendonsend"></div><hr style="display:inline-block;width:98%" tabindex="-1">
<div id="divRplyFwdMsg" dir="ltr"><font face="Calibri" style="font-size:11pt" color="#000000">
<b>From:</b> Exchange Support &lt;support@exchange.example&gt;<br><b>Sent:</b> Monday, December 7, 2026 10:00 AM<br>
<b>To:</b> Ana Petrova &lt;ana@example.com&gt;<br><b>Subject:</b> RE: [#T-1001] Deposit</font><div>&nbsp;</div></div>
<div><p>Hello Ana, your deposit needs 3 confirmations.</p></div></body></html>"""
OUTLOOK_ORIGINAL_MESSAGE = """Still nothing on my side, please check again.

-----Original Message-----
From: Exchange Support [mailto:support@exchange.example]
Sent: Monday, December 7, 2026 10:00 AM
Subject: RE: Deposit

Please wait for 3 confirmations.
"""
APPLE_EN = """Here is the screenshot you asked for.

Sent from my iPhone

> On 7 Dec 2026, at 10:00, Exchange Support <support@exchange.example> wrote:
>
> Could you send a screenshot of the withdrawal page?
"""
APPLE_EN_HTML = """<html><head><meta http-equiv="content-type" content="text/html; charset=utf-8"></head>
<body dir="auto">Here is the screenshot you asked for.<br><br><div dir="ltr">Sent from my iPhone</div>
<div dir="ltr"><br><blockquote type="cite">On 7 Dec 2026, at 10:00, Exchange Support &lt;support@exchange.example&gt;
wrote:<br><br></blockquote></div><blockquote type="cite"><div dir="ltr">Could you send a screenshot of the
withdrawal page?</div></blockquote></body></html>"""
BOTTOM_POSTED = """On Mon, Dec 7, 2026 at 10:00 AM Exchange Support <support@exchange.example> wrote:
> Which network did you use?

TRC20, from my wallet.

> And the amount?

150 USDT.

--
Ana
"""

# (the mail, what the user wrote): each client's reply form in each language.
REPLIES = {
    "gmail en": (GMAIL_EN, "Thanks, I found the transaction. It shows 2 confirmations now."),
    "outlook en": (OUTLOOK_EN, "The deposit arrived, thank you!\n\nAna Petrova\nTrader, Kyiv"),
    "outlook original message": (OUTLOOK_ORIGINAL_MESSAGE, "Still nothing on my side, please check again."),
    "apple en": (APPLE_EN, "Here is the screenshot you asked for."),
    "bottom-posted": (BOTTOM_POSTED, "TRC20, from my wallet.\n\n150 USDT."),
    "gmail es": ("Ya llegó, gracias.\n\nEl lun, 7 dic 2026 a las 10:00, Soporte (<support@exchange.example>)\n"
                 "escribió:\n\n> Hola Ana,\n> su depósito necesita 3 confirmaciones.\n", "Ya llegó, gracias."),
    "apple es": ("Adjunto la captura.\n\nEnviado desde mi iPhone\n\n> El 7 dic 2026, a las 10:00, Soporte "
                 "<support@exchange.example> escribió:\n>\n> ¿Puede enviar una captura?\n", "Adjunto la captura."),
    "outlook es": ("No ha llegado todavía.\n\nDe: Soporte <support@exchange.example>\nEnviado: lunes, 7 de "
                   "diciembre de 2026 10:00\nPara: Ana <ana@example.com>\nAsunto: RE: Depósito\n\nHola Ana\n",
                   "No ha llegado todavía."),
    "gmail ru": ("Спасибо, всё пришло.\n\nпн, 7 дек. 2026 г. в 10:00, Поддержка <support@exchange.example>:\n\n"
                 "> Здравствуйте, Анна!\n> Депозит зачислен.\n", "Спасибо, всё пришло."),
    "thunderbird ru": ("Не пришло.\n\n07.12.2026 10:00, Поддержка пишет:\n> Ждите 3 подтверждения.\n", "Не пришло."),
    "outlook ru": ("Проверьте ещё раз, пожалуйста.\n\nОт: Поддержка <support@exchange.example>\nОтправлено: 7 "
                   "декабря 2026 г. 10:00\nКому: Анна <ana@example.com>\nТема: RE: Депозит\n\nЗдравствуйте\n",
                   "Проверьте ещё раз, пожалуйста."),
    "apple ru": ("Вот скриншот.\n\nОтправлено с iPhone\n\n> 7 дек. 2026 г., в 10:00, Поддержка "
                 "<support@exchange.example> написал(а):\n>\n> Пришлите скриншот.\n", "Вот скриншот."),
    "gmail fr": ("C'est bon, merci.\n\nLe lun. 7 déc. 2026 à 10:00, Support <support@exchange.example> a écrit :\n\n"
                 "> Bonjour Ana,\n> votre dépôt est crédité.\n", "C'est bon, merci."),
    "outlook fr": ("Toujours rien.\n\nDe : Support <support@exchange.example>\nEnvoyé : lundi 7 décembre 2026 10:00\n"
                   "À : Ana <ana@example.com>\nObjet : RE: Dépôt\n\nBonjour\n", "Toujours rien."),
    "apple fr": ("Voici la capture.\n\nEnvoyé de mon iPhone\n\n> Le 7 déc. 2026 à 10:00, Support "
                 "<support@exchange.example> a écrit :\n>\n> Pouvez-vous envoyer une capture ?\n", "Voici la capture."),
    "gmail de": ("Danke, ist angekommen.\n\nAm Mo., 7. Dez. 2026 um 10:00 Uhr schrieb Support <\n"
                 "support@exchange.example>:\n\n> Hallo Ana,\n> Ihre Einzahlung ist gutgeschrieben.\n",
                 "Danke, ist angekommen."),
    "outlook de": ("Bitte noch einmal prüfen.\n\n-----Ursprüngliche Nachricht-----\nVon: Support "
                   "<support@exchange.example>\nGesendet: Montag, 7. Dezember 2026 10:00\nAn: Ana\nBetreff: AW: "
                   "Einzahlung\n\nHallo Ana\n", "Bitte noch einmal prüfen."),
    "apple de": ("Hier der Screenshot.\n\nVon meinem iPhone gesendet\n\n> Am 07.12.2026 um 10:00 schrieb Support "
                 "<support@exchange.example>:\n>\n> Bitte senden Sie einen Screenshot.\n", "Hier der Screenshot."),
    "gmail ja": ("届きました。ありがとうございます。\n\n2026年12月7日(月) 10:00 Support <support@exchange.example>:\n\n"
                 "> 入金は反映されました。\n", "届きました。ありがとうございます。"),
    "iphone ja": ("まだ届いていません。\n\niPhoneから送信\n\n> 2026/12/07 10:00、Support <support@exchange.example>"
                  "のメール:\n> 確認します。\n", "まだ届いていません。"),
    "gmail ko": ("입금 확인했습니다.\n\n2026년 12월 7일 (월) 오전 10:00, Support <support@exchange.example>"
                 "님이 작성:\n\n> 입금이 완료되었습니다.\n", "입금 확인했습니다."),
    "gmail zh": ("已经到账了，谢谢。\n\nSupport <support@exchange.example> 于2026年12月7日周一 10:00写道：\n\n"
                 "> 您的充值已到账。\n", "已经到账了，谢谢。"),
    "outlook zh": ("还没有到账。\n\n发件人: Support <support@exchange.example>\n发送时间: 2026年12月7日 10:00\n"
                   "收件人: Ana\n主题: 回复: 充值\n\n您好\n", "还没有到账。"),
    "gmail vi": ("Tôi đã nhận được, cảm ơn.\n\nVào Th 2, 7 thg 12, 2026 vào lúc 10:00 Support "
                 "<support@exchange.example> đã viết:\n\n> Khoản nạp đã được ghi có.\n", "Tôi đã nhận được, cảm ơn."),
    "signature": ("Please close my account.\n\n-- \nAna Petrova\n+380 00 000 0000\n", "Please close my account."),
}


@pytest.mark.parametrize("name", sorted(REPLIES))
def test_only_what_the_user_newly_wrote_remains(name):
    body, written = REPLIES[name]
    read = read_mail(mail(body))
    assert read.text == written
    assert body.split("\n")[0] in read.full_text  # the whole text stays at hand


@pytest.mark.parametrize(("plain", "html", "written"), [
    (GMAIL_EN, GMAIL_EN_HTML, "Thanks, I found the transaction. It shows 2 confirmations now."),
    (OUTLOOK_EN, OUTLOOK_EN_HTML, "The deposit arrived, thank you!"),
    (APPLE_EN, APPLE_EN_HTML, "Here is the screenshot you asked for."),
])  # fmt: skip
def test_html_replies_lose_their_quotes_too(plain, html, written):
    """The same replies as the clients' HTML alone: the plain part first, else the HTML read."""
    assert read_mail(alternative(plain, html)).text.startswith(written)
    assert read_mail(alternative(None, html)).text == written


def test_html_only_mail_is_read_as_text():
    html = """<!DOCTYPE html><html><head><title>Newsletter</title><style>body { color: red; }</style>
    <script>var secret = "do not show";</script></head><body>
    <p>My withdrawal of 0.5&nbsp;BTC &amp; 100&nbsp;&euro; is <b>stuck</b> &#8212; 3&lt;4 confirmations?</p>
    <ul><li>Network: BEP20</li><li>TxID: <a href="https://explorer.example/tx/0xabc">0xabc</a></li></ul>
    <table><tr><td>Amount</td><td>0.5</td></tr></table><script>alert(1)</script><!-- a comment --></body></html>"""
    text = read_mail(mail(html, content_type="text/html; charset=utf-8")).text
    assert "<" not in text.replace("3<4", "") and ">" not in text
    assert "My withdrawal of 0.5 BTC & 100 € is stuck — 3<4 confirmations?" in text
    assert "- Network: BEP20" in text and "0xabc (https://explorer.example/tx/0xabc)" in text
    assert "Amount 0.5" in text
    for hidden in ("color: red", "secret", "alert", "Newsletter", "a comment"):
        assert hidden not in text


# --- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize(("header", "subject"), [
    ("=?UTF-8?B?0JTQtdC/0L7Qt9C40YIg0L3QtSDQv9GA0LjRiNC10Ls=?=", "Депозит не пришел"),
    ("=?utf-8?q?Re=3A_=5B#T-1001=5D_Dep=C3=B3sito?=", "Re: [#T-1001] Depósito"),
    ("=?iso-8859-1?q?D=E9p=F4t_non_re=E7u?=", "Dépôt non reçu"),
    ("=?koi8-r?b?5MXQz9rJ1A==?= =?utf-8?q?_=E2=9C=93?=", "Депозит ✓"),
    ("=?shift_jis?b?k/yL4IKzguqCxIKigtyCuYLx?=", "入金されていません"),
    ("=?gb2312?b?s+TWtc60tb3Vyw==?=", "充值未到账"),
    ("Hello =?x-unknown-42?q?w=F6rld?= again", "Hello"),
])  # fmt: skip
def test_encoded_subjects_are_decoded(header, subject):
    read = read_mail(mail("Hi", subject=header))
    assert read.subject.startswith(subject)
    assert "\n" not in read.subject


def test_a_long_folded_subject_is_one_line_of_at_most_300_characters():
    read = read_mail(mail("Hi", subject=" ".join(["word"] * 200).replace("word word", "word\n word")))
    assert read.subject.startswith("word word word") and "\n" not in read.subject and 290 < len(read.subject) <= 300


@pytest.mark.parametrize(("text", "charset", "encoding"), [
    ("Мой депозит не пришел, проверьте пожалуйста.", "utf-8", "base64"),
    ("Mon dépôt n'est pas arrivé, merci de vérifier.", "iso-8859-1", "quoted-printable"),
    ("Мой депозит не пришел.", "koi8-r", "8bit"),
    ("入金が反映されていません。確認してください。", "shift_jis", "base64"),
    ("我的充值还没有到账，请帮忙查一下。", "gb2312", "quoted-printable"),
    ("Tôi chưa nhận được tiền nạp.", "utf-8", "quoted-printable"),
])  # fmt: skip
def test_bodies_in_their_charsets_and_transfer_encodings(text, charset, encoding):
    data = text.encode(charset)
    body = {"base64": base64.encodebytes, "quoted-printable": quopri.encodestring, "8bit": bytes}[encoding](data)
    read = read_mail(mail(body, content_type=f"text/plain; charset={charset}", encoding=encoding))
    assert read.text == text


def test_an_unknown_charset_keeps_the_ascii():
    body = b"Withdrawal ID 88412 is pending \xff\xfe\x9a since Monday"
    read = read_mail(mail(body, content_type="text/plain; charset=x-klingon-9"))
    assert read.text.startswith("Withdrawal ID 88412 is pending") and read.text.endswith("since Monday")


def test_raw_utf8_headers_are_read_as_utf8():
    raw = mail("Hola", subject="Depósito", sender="José Núñez <jose@example.es>")
    read = read_mail(raw)
    assert (read.subject, read.sender_name, read.sender) == ("Depósito", "José Núñez", "jose@example.es")


def test_threading_headers_and_language():
    raw = mail("Hola", headers="In-Reply-To: <bot-9@exchange.example>\nReferences: <bot-1@exchange.example>\n"
               " <user-0@mail.example.com>\t<bot-9@exchange.example>\nContent-Language: es-ES\n")  # fmt: skip
    read = read_mail(raw)
    assert read.message_id == "<user-1@mail.example.com>"
    assert read.in_reply_to == "<bot-9@exchange.example>"
    assert read.references == ("<bot-1@exchange.example>", "<user-0@mail.example.com>", "<bot-9@exchange.example>")
    assert read.language_hint == "es" and read_mail(mail("Hi")).language_hint is None
    assert (read.sender, read.sender_name) == ("ana@example.com", "Ana Petrova")


# --- attachments ------------------------------------------------------------------------------


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 16), (10, 200, 30)).save(out, format="PNG")
    return out.getvalue()


PDF = (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
       b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
       b"trailer\n<< /Root 1 0 R >>\n%%EOF\n\x00\xff\r\n")


def with_attachments(*files: tuple[bytes, str, str, str]) -> bytes:
    """A mail as a client builds it: the text, then each (data, maintype, subtype, filename)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "ana@example.com", SUPPORT, "Statement"
    message.set_content("My bank statement and the screenshot are attached.")
    for data, maintype, subtype, filename in files:
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def test_a_png_and_a_pdf_come_out_byte_for_byte():
    png = png_bytes()
    read = read_mail(with_attachments((png, "image", "png", "screen.png"), (PDF, "application", "pdf", "bank.pdf")))
    assert read.text == "My bank statement and the screenshot are attached."
    assert read.attachments == (MailAttachment("screen.png", "image/png", png),
                                MailAttachment("bank.pdf", "application/pdf", PDF))  # fmt: skip


@pytest.mark.parametrize(("filename", "name"), [
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\ana\\Desktop\\statement.pdf", "statement.pdf"),
    ("..", "attachment.pdf"),
    ("invoice\u202egpj.exe", "invoicegpj.exe"),
    ("a\x07b\x00c.pdf", "abc.pdf"),
    ("выписка за декабрь.pdf", "выписка за декабрь.pdf"),
    ("x" * 300 + ".pdf", "x" * 96 + ".pdf"),
])  # fmt: skip
def test_filenames_come_out_sanitised(filename, name):
    read = read_mail(with_attachments((PDF, "application", "pdf", filename)))
    assert [(found.name, found.data) for found in read.attachments] == [(name, PDF)]


def test_an_inline_image_without_a_name_is_an_attachment_and_at_most_ten_are_read():
    raw = mail("--b\nContent-Type: text/plain\n\nSee the picture.\n" + "".join(
        f"--b\nContent-Type: image/png\nContent-ID: <img{number}>\nContent-Transfer-Encoding: base64\n\n"
        f"{base64.b64encode(bytes([number]) * 10).decode()}\n" for number in range(12)) + "--b--\n",
        content_type='multipart/related; boundary="b"')  # fmt: skip
    read = read_mail(raw)
    assert read.text == "See the picture."
    assert [(found.name, found.declared_type, found.data) for found in read.attachments] == [
        ("attachment.png", "image/png", bytes([number]) * 10) for number in range(10)]  # fmt: skip


# --- automatic mail ---------------------------------------------------------------------------

POSTFIX_BOUNCE = """Return-Path: <>
Received: by mx.exchange.example (Postfix) id 8A1B2C3D; Mon,  7 Dec 2026 10:05:01 +0000 (UTC)
Date: Mon,  7 Dec 2026 10:05:01 +0000 (UTC)
From: MAILER-DAEMON@mx.exchange.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: support@exchange.example
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="8A1B2C3D.1796637901/mx.exchange.example"
Message-Id: <20261207100501.8A1B2C3D@mx.exchange.example>

This is a MIME-encapsulated message.

--8A1B2C3D.1796637901/mx.exchange.example
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.exchange.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

                   The mail system

<gone.user@example.net>: host mx.example.net[203.0.113.5] said: 550 5.1.1
    <gone.user@example.net>: Recipient address rejected: User unknown in
    virtual mailbox table (in reply to RCPT TO command)

--8A1B2C3D.1796637901/mx.exchange.example
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.exchange.example
X-Postfix-Queue-ID: 8A1B2C3D
X-Postfix-Sender: rfc822; support@exchange.example
Arrival-Date: Mon,  7 Dec 2026 10:05:00 +0000 (UTC)

Final-Recipient: rfc822; Gone.User@example.net
Original-Recipient: rfc822;gone.user@example.net
Action: failed
Status: 5.1.1
Remote-MTA: dns; mx.example.net
Diagnostic-Code: smtp; 550 5.1.1 <gone.user@example.net>: Recipient address
    rejected: User unknown in virtual mailbox table

--8A1B2C3D.1796637901/mx.exchange.example
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

From: Exchange Support <support@exchange.example>
To: gone.user@example.net
Subject: Re: [#T-1001] Deposit
Message-ID: <bot-9@exchange.example>

--8A1B2C3D.1796637901/mx.exchange.example--
"""
EXIM_BOUNCE = """From: Mail Delivery System <Mailer-Daemon@mail.example.org>
To: support@exchange.example
Subject: Mail delivery failed: returning message to sender
Content-Type: text/plain; charset=us-ascii

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  nobody@nowhere.example
    host mx.nowhere.example [198.51.100.7]
    SMTP error from remote mail server after RCPT TO:<nobody@nowhere.example>:
    550 No such user
"""


def wire(text: str) -> bytes:
    return text.replace("\n", "\r\n").encode("utf-8")


@pytest.mark.parametrize(("headers", "reason"), [
    ("Auto-Submitted: auto-replied\nX-Auto-Response-Suppress: All\n", "auto_submitted"),
    ("X-Autoreply: yes\n", "auto_reply_header"),
    ("X-Auto-Response-Suppress: OOF\n", "auto_reply_header"),
    ("Precedence: bulk\n", "precedence"),
    ("Precedence: auto_reply\n", "precedence"),
    ("List-Id: Exchange news <news.exchange.example>\nList-Unsubscribe: <https://news.example/u>\n", "list"),
])  # fmt: skip
def test_automatic_mail_is_recognised(headers, reason):
    out_of_office = "I am out of the office until 14 December with limited access to e-mail."
    read = read_mail(mail(out_of_office, subject="Automatic reply: [#T-1001] Deposit", headers=headers))
    assert (read.automatic, read.bounce_for) == (reason, "")


def test_a_delivery_status_report_is_a_bounce_for_its_final_recipient():
    read = read_mail(wire(POSTFIX_BOUNCE))
    assert (read.automatic, read.bounce_for) == ("bounce", "gone.user@example.net")
    assert read.sender == "mailer-daemon@mx.exchange.example"


def test_a_daemons_text_bounce_names_the_failed_address():
    read = read_mail(wire(EXIM_BOUNCE))
    assert (read.automatic, read.bounce_for) == ("bounce", "nobody@nowhere.example")
    headed = read_mail(wire(EXIM_BOUNCE.replace("To:", "X-Failed-Recipients: other@nowhere.example\nTo:", 1)))
    assert headed.bounce_for == "other@nowhere.example"


def test_a_daemon_that_does_not_bounce_is_still_a_daemon():
    read = read_mail(mail("Your mailbox is almost full.", sender="postmaster@example.com"))
    assert (read.automatic, read.bounce_for) == ("mailer_daemon", "")


def test_a_persons_reply_is_not_automatic():
    headers = ("Auto-Submitted: no\nX-Mailer: Microsoft Outlook 16.0\nThread-Index: AQHbSxYz\n"
               "X-Auto-Response-Suppress: RN, NRN\nReceived: from mail.example.com by mx.exchange.example\n")
    for raw in (mail(GMAIL_EN, headers=headers), alternative(OUTLOOK_EN, OUTLOOK_EN_HTML), mail("Hi")):
        assert read_mail(raw).automatic == ""


# --- the bot's replies ------------------------------------------------------------------------


def test_a_composed_reply_threads_and_carries_its_ticket_once():
    user = read_mail(mail("Where is my deposit?", subject="RE: Re: Deposit", headers=(
        "In-Reply-To: <bot-1@exchange.example>\nReferences: <user-0@mail.example.com> <bot-1@exchange.example>\n")))
    png = png_bytes()
    reply = compose_reply(sender=SUPPORT, to=user.sender, subject=user.subject, text="It is credited now.\r\nRegards",
                          ticket="T-1001", in_reply_to=user.message_id, references=user.references,
                          domain="exchange.example", unsubscribe_url="https://exchange.example/mail/stop?t=abc",
                          unsubscribe_mailto="stop+abc@exchange.example",
                          attachments=(MailAttachment("receipt.png", "image/png", png),))  # fmt: skip
    assert reply["List-Unsubscribe"] == "<mailto:stop+abc@exchange.example>, <https://exchange.example/mail/stop?t=abc>"
    assert reply["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert reply["Date"] and reply["Message-ID"].endswith("@exchange.example>")
    read = read_mail(reply.as_bytes())
    assert read.in_reply_to == "<user-1@mail.example.com>"
    assert read.references == ("<user-0@mail.example.com>", "<bot-1@exchange.example>", "<user-1@mail.example.com>")
    assert read.subject == "Re: [#T-1001] Deposit" and ticket_in_subject(read.subject) == "T-1001"
    assert read.automatic == "auto_submitted"  # our own mail, if it ever came back, is not answered
    assert read.text == "It is credited now.\nRegards"
    assert read.full_text.endswith("To stop these e-mails: https://exchange.example/mail/stop?t=abc")
    assert read.attachments == (MailAttachment("receipt.png", "image/png", png),)
    # the user answers the reply: the ticket stays once, the thread grows
    again = compose_reply(sender=SUPPORT, to=user.sender, subject="Re: " + read.subject, text="Anything else?",
                          ticket="T-1001", in_reply_to="<user-2@mail.example.com>", references=read.references,
                          domain="exchange.example")  # fmt: skip
    assert again["Subject"] == "Re: [#T-1001] Deposit" and "List-Unsubscribe" not in again
    assert again["References"].split()[-1] == "<user-2@mail.example.com>"


@pytest.mark.parametrize(("subject", "ticket", "expected"), [
    ("Deposit", "T-1001", "Re: [#T-1001] Deposit"),
    ("Re: Re: [#T-1234] Deposit", "T-1234", "Re: [#T-1234] Deposit"),
    ("AW: Einzahlung", None, "Re: Einzahlung"),
    ("Ответ: 回复: Депозит", "T-7", "Re: [#T-7] Депозит"),
    ("", "T-7", "Re: [#T-7]"),
])  # fmt: skip
def test_reply_subjects(subject, ticket, expected):
    assert reply_subject(subject, ticket) == expected
    assert ticket_in_subject(expected) == ticket


def test_ticket_in_subject():
    assert ticket_in_subject("Re: Re: [#T-1234] Deposit") == "T-1234"
    assert ticket_in_subject("Re: T-1234 Deposit") is None and ticket_in_subject("[#X-12]") is None


def test_header_injection_adds_no_header():
    injected = "x\r\nBcc: a@b"
    reply = compose_reply(sender=SUPPORT, to="ana@example.com", subject=injected, text=injected, ticket="T-1\nBcc: a@b",
                          in_reply_to="<u@x>\r\nBcc: a@b", references=("<r@x>\nBcc: a@b",), domain="ex.com\r\nBcc: a@b",
                          unsubscribe_url="https://ex.com/u\r\nBcc: a@b", unsubscribe_mailto="u@ex.com\r\nBcc: a@b",
                          attachments=(MailAttachment("a.pdf\r\nBcc: a@b", "application/pdf\r\nBcc: a@b", PDF),))
    raw = reply.as_bytes()
    parsed = message_from_bytes(raw, policy=default_policy)
    assert [part for part in parsed.walk() if "Bcc" in part] == []
    assert b"\nbcc:" not in raw.split(b"\n\n")[0].lower()  # the top headers, as sent
    assert parsed["To"] == "ana@example.com" and parsed["Subject"] == "Re: [#T-1 Bcc: a@b] x Bcc: a@b"
    read = read_mail(raw)
    assert read.attachments[0].data == PDF and read.text == "x\nBcc: a@b"  # the body keeps its lines
    assert reply["Message-ID"].endswith("@ex.com>")
    for bad in ("x\r\nBcc: a@b", "ana@example.com, eve@example.com", "team: a@b, c@d;", ""):
        with pytest.raises(ValueError):
            compose_reply(sender=SUPPORT, to=bad, subject="s", text="t", ticket=None, domain="ex.com")
    with pytest.raises(ValueError):
        compose_reply(sender=SUPPORT, to="ana@example.com", subject="s", text="t", ticket=None, domain="ex.com Bcc:")


# --- fuzzing ----------------------------------------------------------------------------------

FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
FEW = settings(FUZZ, max_examples=40)
AUTOMATIC_REASONS = {"", "auto_submitted", "precedence", "auto_reply_header", "bounce", "mailer_daemon", "list"}
ODD_CHARSETS = ["utf-8", "koi8-r", "shift_jis", "gb2312", "iso-8859-1", "utf-16", "utf-7", "x-unknown-42", "idna",
                "punycode", "base64", "rot13", "unicode_escape", "zlib", "", '"', "utf-8\x00", "é"]  # fmt: skip
ODD_ENCODINGS = ["7bit", "8bit", "binary", "base64", "quoted-printable", "x-uuencode", "bogus", ""]
ODD_TYPES = ["text/plain", "text/html", "image/png", "application/pdf", "message/rfc822", "message/delivery-status",
             "text/rfc822-headers", "foo/bar", "", "text", "multipart/mixed"]  # fmt: skip
HUGE_HEADER_UNITS = [b"(", b"<", b'"', b"\\", b"=?utf-8?q?a?= ", b"a@b, ", b"; a=b", b"x"]


def assert_sane(read: ReadMail) -> None:
    """What every caller may rely on, whatever the mail was."""
    assert isinstance(read, ReadMail)
    strings = [read.sender, read.sender_name, read.subject, read.message_id, read.in_reply_to, read.text,
               read.full_text, read.automatic, read.bounce_for, *read.references]  # fmt: skip
    for value in strings:
        assert isinstance(value, str)
        value.encode("utf-8")  # no lone surrogates
    assert "\n" not in read.subject and len(read.subject) <= 300 and "\n" not in read.sender_name
    assert len(read.text) <= 20_000 and len(read.full_text) <= 20_000 and len(read.references) <= 50
    assert read.automatic in AUTOMATIC_REASONS and (read.bounce_for == "" or read.automatic == "bounce")
    assert read.language_hint is None or read.language_hint.isalpha()
    assert len(read.attachments) <= 10
    for attachment in read.attachments:
        assert isinstance(attachment.data, bytes) and isinstance(attachment.declared_type, str)
        assert 0 < len(attachment.name) <= 100 and not {"/", "\\", "\n", "\r", "\x00"} & set(attachment.name)


@FUZZ
@given(st.binary(max_size=3000))
def test_any_bytes_are_read(raw):
    assert_sane(read_mail(raw))


SEEDS = [
    with_attachments((b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "image", "png", "a.png"), (PDF, "application", "pdf",
                     "b.pdf")),  # fmt: skip
    alternative(GMAIL_EN, GMAIL_EN_HTML, headers="References: <a@b> <c@d>\nContent-Language: fr\n"),
    wire(POSTFIX_BOUNCE),
    mail(base64.encodebytes("入金が反映されていません。".encode("shift_jis")),
         content_type="text/plain; charset=shift_jis", encoding="base64"),
]
MUTATION = st.tuples(st.sampled_from(["insert", "delete", "flip"]), st.floats(0, 1), st.binary(min_size=1, max_size=8))


@FUZZ
@given(st.sampled_from(SEEDS), st.lists(MUTATION, min_size=1, max_size=12))
def test_mutated_real_mails_are_read(seed, mutations):
    raw = bytearray(seed)
    for kind, where, data in mutations:
        position = int(where * len(raw))
        if kind == "insert":
            raw[position:position] = data
        elif kind == "delete":
            del raw[position : position + len(data) * 8]
        elif raw:
            raw[min(position, len(raw) - 1)] ^= data[0]
    assert_sane(read_mail(bytes(raw)))


@st.composite
def odd_leaf(draw) -> bytes:
    """A part with a type, charset and transfer encoding that may be wrong, and a body that may
    not be what its encoding says."""
    content_type = draw(st.sampled_from(ODD_TYPES))
    charset = draw(st.sampled_from(ODD_CHARSETS))
    encoding = draw(st.sampled_from(ODD_ENCODINGS))
    body = draw(st.binary(max_size=300) | st.text(max_size=200).map(lambda text: text.encode("utf-8", "replace")))
    if encoding == "base64" and draw(st.booleans()):
        body = base64.encodebytes(body)[: draw(st.integers(0, 400))]  # cut anywhere: broken padding
    elif encoding == "quoted-printable" and draw(st.booleans()):
        body = quopri.encodestring(body) + b"=4=Z=\n=\xff"
    disposition = draw(st.sampled_from(["", "attachment", "inline", "attachment; filename*=utf-8''%E2%80%AE..%2F"]))
    head = f'Content-Type: {content_type}; charset="{charset}"; name="../x\x01.bin"\n'
    head += f"Content-Transfer-Encoding: {encoding}\n"
    head += f"Content-Disposition: {disposition}\n" if disposition else ""
    return head.encode("utf-8", "surrogateescape") + b"\n" + body


@st.composite
def odd_multipart(draw, children) -> bytes:
    boundary = draw(st.sampled_from(["b", "=_x", "a b", "", "--", "b" * 80]))
    subtype = draw(st.sampled_from(["mixed", "alternative", "related", 'report; report-type="delivery-status"']))
    parts = draw(st.lists(children, max_size=4))
    closing = draw(st.sampled_from([f"--{boundary}--\n", "", f"--{boundary}\n", "--other--\n"]))
    body = b"".join(f"--{boundary}\n".encode() + part + b"\n" for part in parts) + closing.encode()
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n'.encode() + body


MIME_TREE = st.recursive(odd_leaf(), lambda children: odd_multipart(children), max_leaves=12)


@FUZZ
@given(MIME_TREE, st.sampled_from(["", "From: =?koi8-r?b?5MXQ?= <a@b>\nSubject: =?bogus?q?x=FF?=\n", "From: <>\n",
                                   "From: MAILER-DAEMON@x\nX-Failed-Recipients: ,,,\n"]))  # fmt: skip
def test_generated_mime_trees_are_read(tree, headers):
    assert_sane(read_mail(headers.encode() + b"MIME-Version: 1.0\n" + tree))


@FEW
@given(st.sampled_from(["From", "Subject", "Content-Type", "References", "Content-Disposition", "X-Other"]),
       st.sampled_from(HUGE_HEADER_UNITS), st.integers(50_000, 110_000), MIME_TREE)  # fmt: skip
def test_100_kb_headers_are_read(name, unit, size, tree):
    huge = name.encode() + b": " + unit * (size // len(unit)) + b"\n"
    read = read_mail(huge + tree)
    assert_sane(read)
    assert_sane(read_mail(b"Content-Type: multipart/mixed; boundary=b\n\n--b\n" + huge + b"\nhello\n--b--\n"))


@FEW
@given(st.integers(1, 150), st.sampled_from(["mixed", "alternative", "related"]), st.booleans())
def test_deep_nesting_is_read(depth, subtype, closed):
    raw = b"".join(f'--b{level - 1}\nContent-Type: multipart/{subtype}; boundary="b{level}"\n\n'.encode()
                   for level in range(1, depth))  # fmt: skip
    raw = f'Content-Type: multipart/{subtype}; boundary="b0"\n\n'.encode() + raw
    raw += f"--b{depth - 1}\nContent-Type: text/plain\n\ndeep down\n".encode()
    if closed:
        raw += b"".join(f"--b{level}--\n".encode() for level in reversed(range(depth)))
    read = read_mail(raw)
    assert_sane(read)
    assert depth > 100 or read.text == "deep down"  # 100 deep is read whole


# Well-formed mails for "nothing lost": the user's line in a charset that can write it.
SAMPLES = {"utf-8": "Депозит 入金 ✓", "iso-8859-1": "dépôt reçu", "koi8-r": "депозит", "shift_jis": "入金",
           "gb2312": "充值", "us-ascii": "deposit"}  # fmt: skip
FILLER = st.text(alphabet="abcdefghij klmnopqrstuvwxyz.,0123456789", max_size=120)
FILE = st.tuples(
    st.binary(max_size=3000),
    st.sampled_from(["image/png", "application/pdf", "application/octet-stream", "text/csv", "image/jpeg"]),
    st.sampled_from(["", "scan.png", "../r.pdf", "выписка.pdf", "a" * 150]),
)


def text_part(text: str, charset: str, encoding: str, subtype: str = "plain") -> bytes:
    data = text.encode(charset)
    body = {"base64": base64.encodebytes, "quoted-printable": quopri.encodestring, "8bit": bytes}[encoding](data)
    head = f"Content-Type: text/{subtype}; charset={charset}\nContent-Transfer-Encoding: {encoding}\n\n"
    return head.encode() + body + b"\n"


def file_part(data: bytes, declared_type: str, filename: str) -> bytes:
    name = f"; filename*=utf-8''{quote(filename)}" if filename else ""
    disposition = f"Content-Disposition: attachment{name}\n" if filename or declared_type.startswith("text/") else ""
    return (f"Content-Type: {declared_type}\nContent-Transfer-Encoding: base64\n{disposition}\n".encode()
            + base64.encodebytes(data))  # fmt: skip


def multipart(subtype: str, parts: list[bytes], boundary: str) -> bytes:
    body = b"".join(f"--{boundary}\n".encode() + part + b"\n" for part in parts) + f"--{boundary}--\n".encode()
    return f'Content-Type: multipart/{subtype}; boundary="{boundary}"\n\n'.encode() + body


@FUZZ
@given(st.sampled_from(sorted(SAMPLES)), st.sampled_from(["base64", "quoted-printable", "8bit"]), st.uuids(),
       st.lists(FILLER, max_size=3), st.lists(FILE, max_size=8), st.integers(0, 4), st.booleans())  # fmt: skip
def test_nothing_is_lost(charset, encoding, token, filler, files, wrappers, with_html):
    """A well-formed mail: the user's new line comes out in `text`, every file byte for byte."""
    line = f"{SAMPLES[charset]} {token.hex}"
    first = text_part("\n".join([line, *filler]), charset, encoding)
    if with_html:
        first = multipart("alternative", [first, text_part(f"<p>{line}</p>", "utf-8", encoding, "html")], "alt")
    parts = [first] + [text_part(text, "utf-8", "8bit") for text in filler] + [file_part(*file) for file in files]
    tree = multipart("mixed", parts, "top")
    for level in range(wrappers):
        tree = multipart("mixed", [tree], f"wrap{level}")
    read = read_mail(b"From: Ana <ana@example.com>\nSubject: =?utf-8?b?" + base64.b64encode(line.encode()) + b"?=\n"
                     + b"MIME-Version: 1.0\n" + tree)  # fmt: skip
    assert_sane(read)
    assert line in read.text.split("\n") and read.subject == line and read.automatic == ""
    assert [attachment.data for attachment in read.attachments] == [data for data, _, _ in files]


@pytest.mark.parametrize("line", [
    "Sent from my iPhone", "Sent from my Samsung Galaxy smartphone.", "Get Outlook for iOS<https://aka.ms/o0ukef>",
    "Sent from Yahoo Mail for iPhone", "Sent from Mail for Windows", "Enviado desde mi iPhone",
    "Отправлено с iPhone", "Envoyé de mon iPhone", "Von meinem iPhone gesendet", "iPhoneから送信",
    "发自我的iPhone", "나의 iPhone에서 보냄", "Gửi từ iPhone của tôi",
])  # fmt: skip
def test_mobile_signatures_go(line):
    assert read_mail(mail(f"Please check my withdrawal.\n\n{line}\n")).text == "Please check my withdrawal."


@pytest.mark.parametrize("body", [
    "I sent it like this:\nFrom: 0x9f2c...41ab (my wallet)\nTo: 0x1d4e...77c0\nDate: 7 Dec 2026 09:12\nAmount: 5 ETH",
    "Sent from my Binance account yesterday, still not here.\nTxID 0xabc",
    "Sent from my wallet to yours: 150 USDT",
    "De: mi cuenta de Binance\nPara: mi cuenta aquí\nFecha: ayer\nNo ha llegado.",
    "Your colleague wrote:\nsend the screenshot. Here it is.",
    "The steps were:\n1. open the app\n2. press withdraw",
])  # fmt: skip
def test_what_looks_a_little_like_history_is_kept(body):
    """Users describe transfers with From/To/Date lines and say what they sent from where."""
    assert read_mail(mail(body)).text == body


@pytest.mark.timeout(60)
@pytest.mark.parametrize("body", [
    " " * 150_000 + "x", "From:" + " " * 150_000 + "x", " * From" + " " * 150_000 + "x",
    "Final-Recipient:" + " " * 150_000 + "x", "On 1 Dec " + "a " * 100_000 + "wrote:", ":\n" * 100_000,
    "a@" + "a." * 100_000, "<" * 150_000, "-- \n" * 50_000, "Sent from my " + "iphone " * 50_000,
    "The following address(es) failed:" + ":" * 100_000,
], ids=lambda body: repr(body[:16]))  # fmt: skip
def test_pathological_texts_are_read_quickly(body):
    """Texts that make a careless pattern backtrack for minutes; read in well under a second each."""
    for raw in (mail(body), mail(body, sender="MAILER-DAEMON@x.example"), mail(body, content_type="text/html")):
        assert_sane(read_mail(raw))
    reply = compose_reply(sender=SUPPORT, to="a@example.com", subject="Re:" + body[:50_000], text=body, ticket="T-1",
                          domain="example.com")  # fmt: skip
    assert_sane(read_mail(reply.as_bytes()))
