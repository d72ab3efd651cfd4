/* Port 0x80: where firmware and kernels write POST codes or just waste an I/O cycle. */
#ifndef DEVICES_POST_PORT_H
#define DEVICES_POST_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/io_bus.h"

#define POST_PORT_BASE 0x80

/*
 * Writes are accepted and remembered for debugging; reads return all ones,
 * as QEMU's pc machine does (ioport80_read() in hw/i386/pc.c returns
 * 0xffffffffffffffff and ioport80_write() ignores the value).  The port is
 * claimed anyway so that Linux's outb_p() delays are not counted as guest
 * accesses to unclaimed ports.
 */
struct post_port {
	struct io_device dev;
	uint8_t last;		/* the low byte of the last write */
	bool written;		/* last is meaningful */
	uint64_t writes;
};

void post_port_init(struct post_port *p);

/* The device to register on the bus; it lives inside p. */
const struct io_device *post_port_device(struct post_port *p);

/* The last POST code written, or -1 if none was. */
int post_port_last(const struct post_port *p);

#endif
