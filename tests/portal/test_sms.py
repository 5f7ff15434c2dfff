"""The SMS channel leaves only after commit, through the configured backend."""

import json
from pathlib import Path

from portal.extensions import db
from portal.notifications.sms import send_sms


def _sent(app) -> list[dict]:
    folder = Path(app.config["SMS_FILE_DIR"])
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))] if folder.exists() else []


def test_sms_is_written_by_the_file_backend_after_commit(app, tmp_path):
    app.config["SMS_FILE_DIR"] = str(tmp_path / "sms")
    send_sms("+989121234567", "کد تأیید شما: ۱۲۳۴")
    assert _sent(app) == []
    db.session.commit()
    sent = _sent(app)
    assert [(m["to"], m["text"]) for m in sent] == [("+989121234567", "کد تأیید شما: ۱۲۳۴")]


def test_sms_is_not_sent_when_the_transaction_rolls_back(app, tmp_path):
    app.config["SMS_FILE_DIR"] = str(tmp_path / "sms")
    send_sms("+989121234567", "never")
    db.session.rollback()
    db.session.commit()
    assert _sent(app) == []
