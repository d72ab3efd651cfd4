/* The few UEFI 2.x structures and services the UEFI entry (boot/efi_main.c) uses, declared here, no external library. */
#ifndef BOOT_EFI_H
#define BOOT_EFI_H

#include <stdint.h>

/* Every UEFI service uses the Microsoft x64 calling convention. */
#define EFIAPI __attribute__((ms_abi))

typedef uint64_t efi_status;
typedef void *efi_handle;
typedef uint16_t efi_char16;

#define EFI_ERROR_BIT		(1ull << 63)
#define EFI_SUCCESS		0ull
#define EFI_LOAD_ERROR		(EFI_ERROR_BIT | 1)
#define EFI_INVALID_PARAMETER	(EFI_ERROR_BIT | 2)
#define EFI_BUFFER_TOO_SMALL	(EFI_ERROR_BIT | 5)
#define EFI_NOT_FOUND		(EFI_ERROR_BIT | 14)

#define EFI_PAGE_SIZE		4096ull

/* EFI_ALLOCATE_TYPE */
enum efi_allocate_type {
	EFI_ALLOCATE_ANY_PAGES,
	EFI_ALLOCATE_MAX_ADDRESS,
	EFI_ALLOCATE_ADDRESS,
};

/* EFI_MEMORY_TYPE, UEFI 2.10 table 7.10 */
enum efi_memory_type {
	EFI_RESERVED_MEMORY_TYPE = 0,
	EFI_LOADER_CODE = 1,
	EFI_LOADER_DATA = 2,
	EFI_BOOT_SERVICES_CODE = 3,
	EFI_BOOT_SERVICES_DATA = 4,
	EFI_RUNTIME_SERVICES_CODE = 5,
	EFI_RUNTIME_SERVICES_DATA = 6,
	EFI_CONVENTIONAL_MEMORY = 7,
	EFI_UNUSABLE_MEMORY = 8,
	EFI_ACPI_RECLAIM_MEMORY = 9,
	EFI_ACPI_MEMORY_NVS = 10,
	EFI_MEMORY_MAPPED_IO = 11,
	EFI_MEMORY_MAPPED_IO_PORT_SPACE = 12,
	EFI_PAL_CODE = 13,
	EFI_PERSISTENT_MEMORY = 14,
	EFI_UNACCEPTED_MEMORY = 15,
};

/*
 * One descriptor of GetMemoryMap().  Walk the map with the descriptor size
 * the firmware returns, never sizeof(): later revisions may append fields.
 */
struct efi_memory_descriptor {
	uint32_t type;
	uint32_t pad;
	uint64_t physical_start;
	uint64_t virtual_start;
	uint64_t number_of_pages;
	uint64_t attribute;
};

struct efi_guid {
	uint32_t data1;
	uint16_t data2, data3;
	uint8_t data4[8];
};

#define EFI_LOADED_IMAGE_PROTOCOL_GUID \
	{ 0x5b1b31a1, 0x9562, 0x11d2, { 0x8e, 0x3f, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } }
#define EFI_SIMPLE_FILE_SYSTEM_PROTOCOL_GUID \
	{ 0x964e5b22, 0x6459, 0x11d2, { 0x8e, 0x39, 0x00, 0xa0, 0xc9, 0x69, 0x72, 0x3b } }

/* EFI_LOADED_IMAGE_PROTOCOL: only device_handle (the ESP the image came from) is used. */
struct efi_loaded_image_protocol {
	uint32_t revision;
	efi_handle parent_handle;
	void *system_table;
	efi_handle device_handle;
	/* the rest is not used */
};

#define EFI_FILE_MODE_READ	1ull
/* SetPosition() to this offset moves to the end of the file: GetPosition() then gives its size. */
#define EFI_FILE_POSITION_END	0xffffffffffffffffull

struct efi_file_protocol {
	uint64_t revision;
	efi_status (EFIAPI *open)(struct efi_file_protocol *self, struct efi_file_protocol **new_handle,
				  const efi_char16 *file_name, uint64_t open_mode, uint64_t attributes);
	efi_status (EFIAPI *close)(struct efi_file_protocol *self);
	void *delete_file;
	efi_status (EFIAPI *read)(struct efi_file_protocol *self, uint64_t *buffer_size, void *buffer);
	void *write;
	efi_status (EFIAPI *get_position)(struct efi_file_protocol *self, uint64_t *position);
	efi_status (EFIAPI *set_position)(struct efi_file_protocol *self, uint64_t position);
	/* the rest is not used */
};

struct efi_simple_file_system_protocol {
	uint64_t revision;
	efi_status (EFIAPI *open_volume)(struct efi_simple_file_system_protocol *self,
					 struct efi_file_protocol **root);
};

struct efi_table_header {
	uint64_t signature;
	uint32_t revision;
	uint32_t header_size;
	uint32_t crc32;
	uint32_t reserved;
};

struct efi_simple_text_output_protocol {
	void *reset;
	efi_status (EFIAPI *output_string)(struct efi_simple_text_output_protocol *self,
					   const efi_char16 *string);
	/* the rest is not used */
};

/* Only the members up to ExitBootServices() are typed; the layout is fixed by the spec. */
struct efi_boot_services {
	struct efi_table_header hdr;
	void *raise_tpl;
	void *restore_tpl;
	efi_status (EFIAPI *allocate_pages)(enum efi_allocate_type type, enum efi_memory_type memory_type,
					    uint64_t pages, uint64_t *memory);
	efi_status (EFIAPI *free_pages)(uint64_t memory, uint64_t pages);
	efi_status (EFIAPI *get_memory_map)(uint64_t *map_size, struct efi_memory_descriptor *map,
					    uint64_t *map_key, uint64_t *descriptor_size,
					    uint32_t *descriptor_version);
	efi_status (EFIAPI *allocate_pool)(enum efi_memory_type pool_type, uint64_t size, void **buffer);
	efi_status (EFIAPI *free_pool)(void *buffer);
	void *create_event;
	void *set_timer;
	void *wait_for_event;
	void *signal_event;
	void *close_event;
	void *check_event;
	void *install_protocol_interface;
	void *reinstall_protocol_interface;
	void *uninstall_protocol_interface;
	efi_status (EFIAPI *handle_protocol)(efi_handle handle, const struct efi_guid *protocol,
					     void **interface);
	void *reserved;
	void *register_protocol_notify;
	void *locate_handle;
	void *locate_device_path;
	void *install_configuration_table;
	void *load_image;
	void *start_image;
	void *exit;
	void *unload_image;
	efi_status (EFIAPI *exit_boot_services)(efi_handle image, uint64_t map_key);
};

struct efi_system_table {
	struct efi_table_header hdr;
	efi_char16 *firmware_vendor;
	uint32_t firmware_revision;
	efi_handle console_in_handle;
	void *con_in;
	efi_handle console_out_handle;
	struct efi_simple_text_output_protocol *con_out;
	efi_handle standard_error_handle;
	struct efi_simple_text_output_protocol *std_err;
	void *runtime_services;
	struct efi_boot_services *boot_services;
	uint64_t number_of_table_entries;
	void *configuration_table;
};

#endif
