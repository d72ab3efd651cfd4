/* Parsing EFI/VMM/MODULES.TXT, the list of boot modules vmm.efi loads from the ESP. */
#ifndef BOOT_EFI_MODLIST_H
#define BOOT_EFI_MODLIST_H

#include <stddef.h>

#include "vmm/boot.h"

/*
 * The UEFI path takes as many modules as the handover (16, not the disk
 * image's 15) and command lines as long (255 bytes, not 55): the command
 * lines live in vmm.efi's handoff block, not in a 512-byte header sector.
 */
#define EFI_MODLIST_MAX		BOOT_MAX_MODULES
#define EFI_MODLIST_FILE_MAX	64	/* a file name under EFI/VMM/ and its NUL */
#define EFI_MODLIST_TEXT_MAX	16384	/* MODULES.TXT itself, at most */

struct efi_modlist_entry {
	char file[EFI_MODLIST_FILE_MAX];		/* as written: "hello.elf", "+modules.cfg" */
	char cmdline[BOOT_MODULE_CMDLINE_MAX];	/* "NAME ARGS", NAME = file without ".elf" */
};

enum efi_modlist_error {
	EFI_MODLIST_OK,
	EFI_MODLIST_TOO_MANY,		/* a module line past EFI_MODLIST_MAX */
	EFI_MODLIST_FILE_TOO_LONG,	/* the file name does not fit EFI_MODLIST_FILE_MAX */
	EFI_MODLIST_BAD_FILE,		/* a '/' or '\\' in the name, or "." / ".." */
	EFI_MODLIST_CMDLINE_TOO_LONG,	/* "NAME ARGS" over 255 bytes */
	EFI_MODLIST_BAD_BYTE,		/* a NUL or other control byte (not tab, CR, LF) */
};

/*
 * Parses the len bytes of text: one module a line, "FILE [ARGS]", FILE the
 * name of a file in EFI/VMM/ (no directories), ARGS the rest of the line
 * with its surrounding blanks (space, tab) and a CR removed.  Blank lines
 * and lines whose first non-blank byte is '#' are skipped.  A FILE that
 * starts with '+' is a guest's own multiboot module, as on the disk path.
 * Writes at most EFI_MODLIST_MAX entries to out and their number to *count;
 * on an error, *line is the 1-based line number it is on (else 0) and the
 * entries before it are valid.
 */
enum efi_modlist_error efi_modlist_parse(const char *text, size_t len, struct efi_modlist_entry *out,
					 size_t *count, size_t *line);

/* A short English description of an error, for the one error line. */
const char *efi_modlist_error_text(enum efi_modlist_error error);

#endif
