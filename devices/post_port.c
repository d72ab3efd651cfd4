/* The POST-code port: remembers what the guest wrote, reads like QEMU's ioport80. */
#include "devices/post_port.h"

static uint32_t post_port_read(void *opaque, uint16_t port, unsigned size)
{
	(void)opaque;
	(void)port;
	(void)size;
	return 0xffffffff;
}

/*
 * Only the low byte is a POST code: a wider write is split by the bus
 * hardware, and the other bytes go to ports 0x81 and up (DMA page registers
 * on a PC), which this device does not own.
 */
static void post_port_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct post_port *p = opaque;

	(void)port;
	(void)size;
	p->last = (uint8_t)value;
	p->written = true;
	p->writes++;
}

void post_port_init(struct post_port *p)
{
	p->dev.name = "post";
	p->dev.base = POST_PORT_BASE;
	p->dev.count = 1;
	p->dev.opaque = p;
	p->dev.read = post_port_read;
	p->dev.write = post_port_write;
	p->last = 0;
	p->written = false;
	p->writes = 0;
}

const struct io_device *post_port_device(struct post_port *p)
{
	return &p->dev;
}

int post_port_last(const struct post_port *p)
{
	return p->written ? p->last : -1;
}
