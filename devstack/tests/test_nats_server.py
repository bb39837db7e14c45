import nats
import pytest

from cauce_devstack.servers import NatsServer, PortInUseError


async def test_jetstream_is_enabled_and_data_survives_restart(nats_server: NatsServer) -> None:
    nc = await nats.connect(nats_server.url)
    js = nc.jetstream()
    await js.add_stream(name="PROBE", subjects=["probe.>"])
    ack = await js.publish("probe.one", b"x")
    assert ack.seq == 1
    await nc.close()

    nats_server.stop()
    assert not nats_server.running
    nats_server.start()

    nc = await nats.connect(nats_server.url)
    info = await nc.jetstream().stream_info("PROBE")
    assert info.state.messages == 1
    await nc.close()


def test_taken_port_is_reported_clearly(nats_server: NatsServer, tmp_path) -> None:
    second = NatsServer(store_dir=tmp_path / "other", port=nats_server.port)
    with pytest.raises(PortInUseError, match=f"port {nats_server.port} \\(NATS\\)"):
        second.start()
