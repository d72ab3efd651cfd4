/* bigimage: a kernel as QEMU test suites build them: linked at 4 MiB, a 12 MiB data segment, code copied to physical 0 and run there. */
#include <stdbool.h>
#include <stdint.h>
#include "guest/lib/guest.h"
#include "guest/lib/multiboot.h"
#include "guest/lib/string.h"

#define FOUR_MIB	0x400000u
#define BIG_WORDS	(3u << 20)	/* 12 MiB of initialised data */
#define RAM_NEEDED	(128u << 20)

/* Initialised, so the whole array is in the file's data segment (not .bss). */
static volatile uint32_t big[BIG_WORDS] = {
	[0] = 0x11111111u, [BIG_WORDS / 2] = 0x33333333u, [BIG_WORDS - 1] = 0x22222222u,
};

/* mov eax, 0x0badc0de; ret: what the guest copies to physical 0 and calls. */
static const uint8_t page0_stub[] = { 0xb8, 0xde, 0xc0, 0xad, 0x0b, 0xc3 };

static uint32_t usable_top(const struct multiboot_info *mbi)
{
	uint32_t addr = mbi->mmap_addr, end = mbi->mmap_addr + mbi->mmap_length;
	uint64_t top = 0;

	while (addr < end) {
		const struct multiboot_mmap_entry *e = (const void *)addr;

		CHECK(e->size >= 20);
		if (e->type == MMAP_TYPE_USABLE && e->base + e->length > top)
			top = e->base + e->length;
		addr += e->size + sizeof(e->size);
	}
	return top > 0xffffffffull ? 0xffffffffu : (uint32_t)top;
}

/* Page 0 is RAM the guest may use: copy code there and run it (paging is off). */
static void check_page0(void)
{
	uint8_t *zero = (uint8_t *)0;
	uint32_t (*stub)(void) = (uint32_t (*)(void))0;

	__asm__ volatile("" : "+r"(zero));	/* a real pointer to 0, not undefined behaviour the compiler may exploit */
	__asm__ volatile("" : "+r"(stub));
	for (unsigned i = 0; i < sizeof(page0_stub); i++)
		zero[i] = page0_stub[i];
	CHECK_EQ(stub(), 0x0badc0deu);
	printf("guest: code copied to physical 0 runs\n");
}

int guest_main(uint32_t magic, const struct multiboot_info *mbi)
{
	const char *cmdline;
	unsigned name_len = 0, i;

	CHECK_EQ(magic, MULTIBOOT_LOADER_MAGIC);
	CHECK((uintptr_t)&guest_main >= FOUR_MIB);
	CHECK((uintptr_t)big >= FOUR_MIB);
	printf("guest: linked at 0x%x, data segment of %u MiB at 0x%x\n", (unsigned)(uintptr_t)&guest_main,
	       (unsigned)(sizeof(big) >> 20), (unsigned)(uintptr_t)big);

	CHECK(mbi->flags & MBI_FLAG_CMDLINE);
	cmdline = (const char *)mbi->cmdline;
	while (cmdline[name_len] && cmdline[name_len] != ' ')
		name_len++;
	/* QEMU passes the file name as given, the VMM the module name: either way it names this program. */
	CHECK(name_len >= 8 && !memcmp(cmdline, "bigimage", 8));
	printf("guest: program name '%.*s'\n", (int)name_len, cmdline);

	CHECK(mbi->flags & MBI_FLAG_MMAP);
	CHECK(usable_top(mbi) >= RAM_NEEDED - (1u << 20));
	printf("guest: usable RAM reaches %u MiB\n", usable_top(mbi) >> 20);

	/* The loader copied every initialised byte: the markers at both ends and in the middle, zeros between. */
	CHECK_EQ(big[0], 0x11111111u);
	CHECK_EQ(big[BIG_WORDS / 2], 0x33333333u);
	CHECK_EQ(big[BIG_WORDS - 1], 0x22222222u);
	for (i = 1; i < BIG_WORDS - 1; i += 4093)
		if (i != BIG_WORDS / 2)
			CHECK_EQ(big[i], 0);
	for (i = 0; i < BIG_WORDS; i += 1021)
		big[i] = i * 2654435761u;
	for (i = 0; i < BIG_WORDS; i += 1021)
		CHECK_EQ(big[i], i * 2654435761u);
	printf("guest: 12 MiB data segment loaded and writable\n");

	check_page0();
	return guest_pass("bigimage");
}
