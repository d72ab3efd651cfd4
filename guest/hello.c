/* hello: the multiboot handover (magic, memory info, memory map, command line) and the console. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"

#define ONE_MIB	0x100000ull

/* Walks the map checking every entry's size; returns how many usable regions start at or above 1 MiB. */
static int count_usable_above_1mib(const struct multiboot_info *mbi)
{
	uint32_t addr = mbi->mmap_addr;
	uint32_t end = mbi->mmap_addr + mbi->mmap_length;
	int usable = 0;
	int entries = 0;

	while (addr < end) {
		const struct multiboot_mmap_entry *e = (const void *)addr;

		CHECK(e->size >= 20);	/* also what keeps this loop finite */
		if (e->type == MMAP_TYPE_USABLE && e->base >= ONE_MIB && e->length > 0)
			usable++;
		entries++;
		addr += e->size + sizeof(e->size);
	}
	printf("guest: memory map: %d entries, %d usable above 1 MiB\n", entries, usable);
	return usable;
}

static void check_memory_info(const struct multiboot_info *mbi)
{
	CHECK(mbi->flags & MBI_FLAG_MEM);
	CHECK(mbi->flags & MBI_FLAG_MMAP);
	printf("guest: mem_lower=%u KiB mem_upper=%u KiB\n", mbi->mem_lower, mbi->mem_upper);
	CHECK(mbi->mem_lower >= 512);
	CHECK(mbi->mem_upper > 0);
	CHECK(mbi->mmap_length > 0);
	CHECK(count_usable_above_1mib(mbi) >= 1);
}

/* The first word is the program name (QEMU passes the kernel's path); the rest are its arguments. */
static void check_cmdline(const struct multiboot_info *mbi)
{
	CHECK(mbi->flags & MBI_FLAG_CMDLINE);
	CHECK(mbi->cmdline != 0);

	const char *cmdline = (const char *)mbi->cmdline;
	int name_len = 0;

	while (cmdline[name_len] && cmdline[name_len] != ' ')
		name_len++;
	CHECK(name_len > 0);

	const char *args = cmdline + name_len;

	while (*args == ' ')
		args++;
	printf("guest: hello from %.*s\n", name_len, cmdline);
	printf("guest: args '%s'\n", args);
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	check_cmdline(mbi);
	check_memory_info(mbi);
	return guest_pass("hello");
}
