"""TFTP on the real lab: interop with tftp-hpa and atftp, sizes, safety, loss."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest
import testinfra

from lab.control.lab import Lab
from lab.control.programs import HostProgram
from lab.probes.raw import send_datagram
from lab.probes.tftp import sha256, sha256s
from lab.proto import tftp

pytestmark = pytest.mark.lab

ROOT = "/srv/tftp-test"
SIZES = {"empty": 0, "one-block": 512, "odd": 1500, "1mb": 1 << 20}


@pytest.fixture
def files(lab: Lab) -> Iterator[dict[str, str]]:
    script = f"rm -rf {ROOT} && mkdir -p {ROOT}/sub && chmod 777 {ROOT} && " + " && ".join(
        f"head -c {size} /dev/urandom > {ROOT}/{name}.bin" for name, size in SIZES.items())
    lab.exec("srv", ["sh", "-c", script], check=True)
    lab.exec("b1", ["sh", "-c", "rm -rf /tmp/t && mkdir -p /tmp/t"], check=True)
    yield {name: sha256(lab, "srv", f"{ROOT}/{name}.bin") for name in SIZES}


@pytest.fixture
def ours(run_program: Callable[..., HostProgram], files: dict[str, str]) -> HostProgram:
    server = run_program("srv", ["lab", "tftp-server", "--root", ROOT, "--writable", "--create", "--json"])
    server.wait_listening(69)
    return server


@pytest.fixture
def hpa(run_program: Callable[..., HostProgram], files: dict[str, str]) -> HostProgram:
    server = run_program("srv", ["in.tftpd", "-L", "-s", "-c", ROOT])
    server.wait_listening(69)
    return server


@pytest.fixture
def atftpd(run_program: Callable[..., HostProgram], files: dict[str, str]) -> HostProgram:
    server = run_program("srv", ["atftpd", "--daemon", "--no-fork", "--user", "root.root", "--logfile", "-",
                                 "--port", "69", ROOT])
    server.wait_listening(69)
    return server


def client(lab: Lab, *args: str) -> str:
    return lab.exec("b1", ["sh", "-c", "cd /tmp/t && " + " ".join(args)], check=True).stdout


@pytest.mark.parametrize("options", ["", "--blksize 1468 --tsize --timeout-option 2"])
def test_our_client_with_tftpd_hpa(lab: Lab, hpa: HostProgram, files: dict[str, str], options: str) -> None:
    for name in SIZES:
        client(lab, f"lab tftp get srv {name}.bin {options}")
        assert sha256(lab, "b1", f"/tmp/t/{name}.bin") == files[name], name
    client(lab, f"lab tftp put srv odd.bin up-{len(options)}.bin {options}")
    assert sha256(lab, "srv", f"{ROOT}/up-{len(options)}.bin") == files["odd"]


def test_our_server_listens_where_clients_look(hosts: dict[str, testinfra.host.Host], ours: HostProgram) -> None:
    srv = hosts["srv"]
    assert srv.socket("udp://0.0.0.0:69").is_listening
    assert not srv.socket("tcp://0.0.0.0:69").is_listening, "TFTP is UDP only"
    assert [p for p in srv.process.filter(comm="python3") if "lab tftp-server" in p.args], "the server is ours"


def test_tftp_hpa_client_with_our_server(lab: Lab, ours: HostProgram, files: dict[str, str]) -> None:
    for name in SIZES:
        client(lab, f"tftp -m binary srv -c get {name}.bin")
        assert sha256(lab, "b1", f"/tmp/t/{name}.bin") == files[name], name
    client(lab, "tftp -m binary srv -c put 1mb.bin hpa-up.bin")
    assert sha256(lab, "srv", f"{ROOT}/hpa-up.bin") == files["1mb"]


def test_atftp_with_windowsize_both_ways(lab: Lab, run_program: Callable[..., HostProgram],
                                          files: dict[str, str]) -> None:
    server = run_program("srv", ["lab", "tftp-server", "--root", ROOT, "--writable", "--create", "--json"])
    server.wait_listening(69)
    client(lab, "atftp --option 'windowsize 8' --option 'blksize 1428' -g -r 1mb.bin -l a.bin srv")
    assert sha256(lab, "b1", "/tmp/t/a.bin") == files["1mb"]
    client(lab, "atftp -p -l a.bin -r at-up.bin srv")
    assert sha256(lab, "srv", f"{ROOT}/at-up.bin") == files["1mb"]
    server.stop()
    other = run_program("srv", ["atftpd", "--daemon", "--no-fork", "--user", "root.root", "--logfile", "-", ROOT])
    other.wait_listening(69)
    client(lab, "lab tftp get srv 1mb.bin w.bin --windowsize 16 --blksize 1428")
    assert sha256(lab, "b1", "/tmp/t/w.bin") == files["1mb"]


def test_forty_megabytes_roll_the_block_number_over(lab: Lab, ours: HostProgram) -> None:
    lab.exec("srv", ["sh", "-c", f"head -c 41943040 /dev/urandom > {ROOT}/big.bin"], check=True)
    # 81,920 blocks of 512: past 65,535 (in windows of 16: the wrap is the same, the round trips fewer)
    client(lab, "lab tftp get srv big.bin --timeout 2 --windowsize 16")
    assert sha256(lab, "b1", "/tmp/t/big.bin") == sha256(lab, "srv", f"{ROOT}/big.bin")


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "sub/../../etc/passwd", "escape",
                                  "x" * 300])
def test_paths_stay_inside_the_root(lab: Lab, ours: HostProgram, name: str) -> None:
    lab.exec("srv", ["ln", "-sf", "/etc/passwd", f"{ROOT}/escape"], check=True)
    replies = send_datagram(lab, "b1", "srv", 69, tftp.rrq(name).encode())
    answer = tftp.decode(replies[0]) if replies else None
    assert isinstance(answer, tftp.Error) and answer.code == tftp.ACCESS_VIOLATION, answer
    assert answer.message in ("access outside the served folder is not allowed", "illegal file name")


def test_uploads_need_writable(lab: Lab, run_program: Callable[..., HostProgram], files: dict[str, str]) -> None:
    server = run_program("srv", ["lab", "tftp-server", "--root", ROOT])
    server.wait_listening(69)
    done = lab.exec("b1", ["sh", "-c", "cd /tmp && head -c 100 /dev/zero > z && lab tftp put srv z odd.bin"])
    assert done.exit_code == 1 and "ERROR 2: this server does not accept uploads" in done.stderr
    assert sha256(lab, "srv", f"{ROOT}/odd.bin") == files["odd"], "the existing file is untouched"


def test_a_failed_upload_leaves_no_file(lab: Lab, ours: HostProgram) -> None:
    """A WRQ, one full block (ACKed), then the client vanishes: the server times out and cleans up."""
    script = ("import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(5)\n"
              f"s.sendto(bytes.fromhex('{tftp.wrq('partial.bin').encode().hex()}'), ('srv', 69))\n"
              "ack0, server = s.recvfrom(100)\n"
              f"s.sendto(bytes.fromhex('{tftp.Data(1, bytes(512)).encode().hex()}'), server)\n"
              "print(ack0.hex(), s.recvfrom(100)[0].hex())\n")
    acks = lab.exec("b1", ["python3", "-c", script], check=True).stdout.split()
    assert [tftp.decode(bytes.fromhex(a)) for a in acks] == [tftp.Ack(0), tftp.Ack(1)], "the block was taken"
    ours.wait_event("failed", timeout=30)
    listing = lab.exec("srv", ["ls", "-a", ROOT]).stdout.split()
    assert not [f for f in listing if "partial" in f], listing


def test_a_download_into_a_missing_folder_is_one_clear_line(lab: Lab, ours: HostProgram) -> None:
    done = lab.exec("b1", ["lab", "tftp", "get", "srv", "odd.bin", "/no/such/dir/f"])
    assert done.exit_code == 1
    assert done.stderr == "lab tftp: cannot write /no/such/dir/f: No such file or directory\n"
    assert not [e for e in ours.events() if e["event"] != "listening"], "the server was asked for nothing"


def test_a_download_that_cannot_be_written_tells_the_server(lab: Lab, ours: HostProgram) -> None:
    """A file size limit (ulimit -f: 1 MiB) stops the write of a 3 MiB download after its first
    MiB: the client says so in one line, sends ERROR 3 (disk full), and leaves no file."""
    lab.exec("srv", ["sh", "-c", f"head -c 3145728 /dev/zero > {ROOT}/3mb.bin"], check=True)
    done = lab.exec("b1", ["sh", "-c", "cd /tmp/t && ulimit -f 2048 && lab tftp get srv 3mb.bin"])
    assert done.exit_code == 1
    assert done.stderr == "lab tftp: cannot write 3mb.bin: File too large (the server was told: ERROR 3)\n"
    failed = ours.wait_event("failed", timeout=10)[0]["message"]
    assert "ERROR 3" in failed and "client cannot write: File too large" in failed, failed
    assert not lab.exec("b1", ["sh", "-c", "ls -A /tmp/t"]).stdout.strip()


def test_an_oack_with_options_not_asked_for_is_refused_with_error_8(lab: Lab,
                                                                    run_program: Callable[..., HostProgram]) -> None:
    """RFC 2347: a client that does not accept the OACK answers ERROR 8 and stops."""
    fake = ("import socket\nl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nl.bind(('', 69))\n"
            "print('ready', flush=True)\n_, client = l.recvfrom(600)\n"
            "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(5)\n"
            f"s.sendto(bytes.fromhex('{tftp.OAck({'blksize': '9000'}).encode().hex()}'), client)\n"
            "print(s.recvfrom(600)[0].hex(), flush=True)\n")
    server = run_program("srv", ["python3", "-c", fake])
    server.wait_line("ready")
    done = lab.exec("b1", ["lab", "tftp", "get", "srv", "any.bin", "/tmp/any.bin"])
    assert done.exit_code == 1 and "options we did not ask for: blksize" in done.stderr, done.stderr
    answer = tftp.decode(bytes.fromhex(server.wait_line("^[0-9a-f]+$")))
    assert isinstance(answer, tftp.Error) and answer.code == tftp.OPTION_REFUSED, answer


def test_an_upload_streams_to_disk(lab: Lab, ours: HostProgram) -> None:
    """48 MiB uploaded (netascii, the mode that was held whole) while the server stays far below it."""
    lab.exec("b1", ["sh", "-c", "cd /tmp/t && yes 'a line of text' | head -c 50331648 > big.txt"], check=True)
    client(lab, "lab tftp put srv big.txt --mode netascii --blksize 1468 --windowsize 16")
    assert sha256(lab, "srv", f"{ROOT}/big.txt") == sha256(lab, "b1", "/tmp/t/big.txt")
    assert ours.peak_memory_kib() < 40 * 1024


def malformed_requests() -> list[bytes]:
    rng = random.Random(69)
    table = [b"", b"\x00", b"\x00\x01", b"\x00\x01f", b"\x00\x01f\x00", b"\x00\x01\x00octet\x00",
             b"\x00\x01f\x00mail\x00", b"\x00\x02f\x00octet", b"\x00\x03\x00\x01data", b"\x00\x04\x00\x01",
             b"\x00\x05\x00\x01oops\x00", b"\x00\x06blksize\x00", b"\x00\x09", b"\xff\xff" * 10,
             b"\x00\x01" + b"a" * 3000 + b"\x00octet\x00", b"\x00\x01f\x00octet\x00blksize\x00",
             b"\x00\x01f\x00octet\x00blksize\x00abc\x00", b"\x00\x01f\x00octet\x00blksize\x000\x00"]
    while len(table) < 220:
        good = tftp.rrq("odd.bin", blksize=rng.choice([8, 512, 99999]), tsize=0).encode()
        cut = rng.randrange(1, len(good))
        table.append(good[:cut] if rng.random() < 0.5 else bytes(rng.randrange(256) for _ in range(cut)))
    return table


def test_malformed_requests_never_stop_the_server(lab: Lab, ours: HostProgram, files: dict[str, str]) -> None:
    script = ("import socket, sys\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
              "for line in sys.stdin:\n    s.sendto(bytes.fromhex(line.strip()), ('srv', 69))\n")
    blaster = HostProgram(lab, "b2", ["python3", "-c", script]).start()
    for packet in malformed_requests():
        blaster.send(packet.hex() + "\n")
    blaster.close_stdin()
    assert blaster.wait_exit() == 0
    assert ours.running
    client(lab, "lab tftp get srv 1mb.bin after.bin")
    assert sha256(lab, "b1", "/tmp/t/after.bin") == files["1mb"]


FAULTS = ["loss", "refusal"]


def inject(impair: Callable[..., None], fault: str, sender: str) -> None:
    """20 % of what b1 receives lost on arrival (DATA on a get, ACKs on a put), or 20 % of the
    sender's own sends refused by its stack (EPERM, as a host firewall's DROP does)."""
    if fault == "loss":
        impair("b1", loss=20, direction="ingress")
    else:
        impair(sender, refuse=20)


@pytest.mark.parametrize("options", ["--blksize 1468", "--blksize 1468 --windowsize 16"],
                         ids=["lock-step", "window-16"])
@pytest.mark.parametrize("action", ["get", "put"])
@pytest.mark.parametrize("fault", FAULTS)
def test_ten_transfers_in_a_row_under_loss(lab: Lab, ours: HostProgram, files: dict[str, str],
                                           impair: Callable[..., None], fault: str, action: str,
                                           options: str) -> None:
    """Every transfer completes byte-identical. Before issue 13 a refused send ended the
    transfer, a window fell out of step after one loss, and each loss cost a whole second."""
    if action == "put":
        lab.exec("b1", ["sh", "-c", f"head -c {1 << 20} /dev/urandom > /tmp/t/up.bin"], check=True)
        original = sha256(lab, "b1", "/tmp/t/up.bin")
    inject(impair, fault, "srv" if action == "get" else "b1")
    if action == "get":  # ten in a row in one exec: each must succeed for the next to start
        client(lab, " && ".join(f"lab tftp get srv 1mb.bin got{n}.bin {options}" for n in range(10)))
        got = sha256s(lab, "b1", [f"/tmp/t/got{n}.bin" for n in range(10)])
    else:
        client(lab, " && ".join(f"lab tftp put srv up.bin put{n}.bin {options}" for n in range(10)))
        got = sha256s(lab, "srv", [f"{ROOT}/put{n}.bin" for n in range(10)])
    assert set(got.values()) == {files["1mb"] if action == "get" else original}, got
    ours.wait_event("done", count=10)  # a session that received the file ends after its dally


@pytest.mark.parametrize("fault", FAULTS)
def test_tftp_hpas_client_from_our_server_under_loss(lab: Lab, ours: HostProgram, files: dict[str, str],
                                                     impair: Callable[..., None], fault: str) -> None:
    """tftp-hpa's client retransmits on whole seconds; our server's timer recovers its losses."""
    inject(impair, fault, "srv")
    client(lab, " && ".join(f"tftp -m binary srv -c get 1mb.bin hpa{n}.bin" for n in range(10)))
    got = sha256s(lab, "b1", [f"/tmp/t/hpa{n}.bin" for n in range(10)])
    assert set(got.values()) == {files["1mb"]}, got
    ours.wait_event("done", count=10)
