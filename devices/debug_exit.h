/* QEMU's isa-debug-exit: a guest write ends the run with status (value << 1) | 1. */
#ifndef DEVICES_DEBUG_EXIT_H
#define DEVICES_DEBUG_EXIT_H

#include <stdint.h>

#include "devices/io_bus.h"

/* QEMU's defaults for -device isa-debug-exit (iobase=0x501, iosize=2). */
#define DEBUG_EXIT_BASE  0x501
#define DEBUG_EXIT_PORTS 2

/*
 * Called for every write, however many; status is always odd, so a guest
 * can never report 0 ("success" to a shell) by accident.
 */
typedef void (*debug_exit_fn)(void *ctx, uint32_t status);

struct debug_exit {
	struct io_device dev;
	debug_exit_fn on_exit;
	void *ctx;
	uint64_t writes;
	uint32_t last_status;	/* 0 until the first write */
};

/* Claims ports [base, base + count); on_exit may be NULL (writes are then only counted). */
void debug_exit_init(struct debug_exit *d, uint16_t base, uint16_t count,
		     debug_exit_fn on_exit, void *ctx);

/* The device to register on the bus; it lives inside d. */
const struct io_device *debug_exit_device(struct debug_exit *d);

#endif
