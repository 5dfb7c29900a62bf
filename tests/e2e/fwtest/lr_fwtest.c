// SPDX-License-Identifier: BSD-2-Clause
/*
 * lr_fwtest.c - the firmware e2e test module (tests/e2e/firmware.sh).
 *
 * On load it asks the kernel for the firmware file `name` (module parameter,
 * default liveroot-test.fw) with request_firmware(): the kernel opens
 * /lib/firmware/NAME itself, against ITS root.  It prints one line
 *   lr_fwtest: firmware NAME: SIZE bytes crc32 XXXXXXXX
 * or
 *   lr_fwtest: firmware NAME: error -ERRNO
 * and fails the load in the second case, so insmod's exit status says it
 * too.  The file exists only in the live root: the load succeeds only when
 * the hand-off made the live root the kernel's root (switch_root by PID 1).
 * It holds nothing after init: no state, no locking.
 */
#include <linux/crc32.h>
#include <linux/device.h>
#include <linux/firmware.h>
#include <linux/module.h>
#include <linux/platform_device.h>

static char *name = "liveroot-test.fw";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "firmware file to load");

static int __init
lr_fwtest_init(void)
{
	struct platform_device *pd;
	const struct firmware *fw;
	int err;

	pd = platform_device_register_simple("lr_fwtest", -1, NULL, 0);
	if (IS_ERR(pd))
		return (PTR_ERR(pd));
	err = request_firmware(&fw, name, &pd->dev);
	if (err != 0) {
		pr_info("lr_fwtest: firmware %s: error %d\n", name, err);
		platform_device_unregister(pd);
		return (err);
	}
	pr_info("lr_fwtest: firmware %s: %zu bytes crc32 %08x\n", name,
	    fw->size, crc32_le(~0U, fw->data, fw->size) ^ ~0U);
	release_firmware(fw);
	platform_device_unregister(pd);
	return (0);
}

static void __exit
lr_fwtest_exit(void)
{
}

module_init(lr_fwtest_init);
module_exit(lr_fwtest_exit);
MODULE_DESCRIPTION("liveroot e2e: request_firmware() from the live root");
MODULE_LICENSE("Dual BSD/GPL");
