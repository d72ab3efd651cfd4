/* The isa-debug-exit port: how test guests report a result and stop the VMM. */
#include <stddef.h>

#include "devices/debug_exit.h"

/*
 * Reads return 0, as QEMU's debug_exit_read() does (hw/misc/debugexit.c;
 * the very first versions had no read handler at all).  A guest can use
 * that to tell the device from an empty port, which reads all ones.
 */
static uint32_t debug_exit_read(void *opaque, uint16_t port, unsigned size)
{
	(void)opaque;
	(void)port;
	(void)size;
	return 0;
}

/*
 * Any port of the range, any size: QEMU accepts 1- to 4-byte accesses as
 * one access (valid.max_access_size = 4, no impl limit), so a word write of
 * 0x1234 gives status 0x2469.  The bus has masked value to the access size.
 * QEMU computes in 64 bits and its exit() keeps 8; we keep 32, losing bit
 * 31 of a dword value.
 */
static void debug_exit_write(void *opaque, uint16_t port, unsigned size, uint32_t value)
{
	struct debug_exit *d = opaque;

	(void)port;
	value &= io_size_mask(size);
	d->writes++;
	d->last_status = (value << 1) | 1;
	if (d->on_exit)
		d->on_exit(d->ctx, d->last_status);
}

void debug_exit_init(struct debug_exit *d, uint16_t base, uint16_t count,
		     debug_exit_fn on_exit, void *ctx)
{
	d->dev.name = "debug-exit";
	d->dev.base = base;
	d->dev.count = count;
	d->dev.opaque = d;
	d->dev.read = debug_exit_read;
	d->dev.write = debug_exit_write;
	d->on_exit = on_exit;
	d->ctx = ctx;
	d->writes = 0;
	d->last_status = 0;
}

const struct io_device *debug_exit_device(struct debug_exit *d)
{
	return &d->dev;
}
