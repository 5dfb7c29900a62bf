#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# The marker of bench/fleet and bench/netboot (the minbase+systemd root):
# their run.sh installs it as /usr/local/sbin/liveroot-fleet-marker with the
# unit liveroot-fleet.service (After= and WantedBy=multi-user.target), so it
# runs once multi-user.target is reached.  It prints the marker lines in the
# kernel's uptime, as bench/boot/systemd-marker.sh does.
#
# When the kernel command line holds trace_event= (bench/fleet's trace
# boot: trace_event=block:block_rq_issue), it first stops the trace, then
# prints every read the kernel issued to /dev/nbd0 (block major 43, minor
# 0) until then, in order, one "OFFSET LENGTH" line in bytes each, between
# FLEET-TRACE-BEGIN and FLEET-TRACE-END, with the ring buffer's
# "entries-in-buffer/entries-written" line (equal counts: nothing lost).
# Then it powers off.
say() {
	echo "$*" > /dev/console
}
now=$(cut -d' ' -f1 /proc/uptime)
T=/sys/kernel/tracing
if grep -q 'trace_event=' /proc/cmdline; then
	[ -e $T/tracing_on ] || mount -t tracefs tracefs $T
	echo 0 > $T/tracing_on
	tracing=1
else
	tracing=0
fi
us=$(systemctl show -P UserspaceTimestampMonotonic)
init=$(awk -v u="$us" 'BEGIN { printf "%.2f", u / 1e6 }')
say "LIVEROOT-MARKER: multi-user.target reached"
say "LIVEROOT-MARKER: uptime init=$init writable=$now"
if [ $tracing = 1 ]; then
	say "FLEET-TRACE-BEGIN"
	grep -m 1 'entries-in-buffer/entries-written' $T/trace > /dev/console
	# "... block_rq_issue: 43,0 R 131072 () 2048 + 256 [comm]": reads of
	# nbd0 (RWBS starting with R), sector and count in 512-byte units
	awk '{
		for (i = 1; i <= NF; i++)
			if ($i == "block_rq_issue:")
				break
		if (i > NF || $(i + 1) != "43,0" || substr($(i + 2), 1, 1) != "R")
			next
		for (j = i + 3; j < NF; j++)
			if ($j == "+")
				break
		if (j >= NF || $(j + 1) + 0 == 0)
			next
		printf "%.0f %.0f\n", $(j - 1) * 512, $(j + 1) * 512
	}' $T/trace > /dev/console
	say "FLEET-TRACE-END"
fi
say "LIVEROOT-MARKER: powering off"
systemctl poweroff --no-block
