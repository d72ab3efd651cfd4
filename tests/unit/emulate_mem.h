/* A small guest linear memory with absent and read-only pages, behind struct emu_ops, for the emulator's tests. */
#ifndef TESTS_UNIT_EMULATE_MEM_H
#define TESTS_UNIT_EMULATE_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/emulate.h"

#define TEST_MEM_SIZE 0x40000u	/* linear [0, 256 KiB); every address above faults */
#define TEST_PAGE 0x1000u

#define TEST_PAGE_ABSENT	1u
#define TEST_PAGE_READ_ONLY	2u

/* #PF error code bits the callbacks report. */
#define TEST_PF_PRESENT	0x1u
#define TEST_PF_WRITE	0x2u
#define TEST_PF_USER	0x4u
#define TEST_PF_FETCH	0x10u

struct test_access {
	uint64_t linear;
	unsigned len;
	bool user;
};

struct test_mem {
	uint8_t bytes[TEST_MEM_SIZE];
	uint8_t page_flags[TEST_MEM_SIZE / TEST_PAGE];
	bool decline_fetch;		/* the fetch callback answers EMU_UNHANDLED */
	bool decline_data;		/* so do the read and write callbacks */
	unsigned fetches, reads, writes;
	uint64_t fetch_end;		/* one past the highest byte fetched */
	struct test_access last_read, last_write;
	uint8_t xmm[16][16];		/* the XMM registers behind the xmm callbacks */
	unsigned xmm_reads, xmm_writes;
};

/* With the XMM callbacks (test_mem.xmm); test_mem_ops_no_xmm has none. */
extern const struct emu_ops test_mem_ops;
extern const struct emu_ops test_mem_ops_no_xmm;

/* A zeroed memory with every page present and writable. */
struct test_mem *test_mem_new(void);

#endif
