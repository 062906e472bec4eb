// PacketBuilder module.
