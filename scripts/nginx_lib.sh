# SPDX-License-Identifier: BSD-2-Clause
#
# nginx_lib.sh - sourced by the scripts that run a private nginx on loopback
# (bench/boot/run.sh, tests/integration/fetch.sh).

# nginx_free_ports FIRST N COUNT: up to COUNT TCP ports in FIRST..FIRST+N
# that no socket in /proc/net/tcp uses, one a line
nginx_free_ports() {
	_nfp_n=0
	for _nfp_p in $(seq "$1" $(($1 + $2))); do
		grep -q ":$(printf '%04X' "$_nfp_p") " /proc/net/tcp 2>/dev/null &&
		    continue
		echo "$_nfp_p"
		_nfp_n=$((_nfp_n + 1))
		[ "$_nfp_n" -lt "$3" ] || break
	done
}

# nginx_conf_head DIR: the start of an nginx.conf keeping its pid, logs and
# temporary files in DIR (DIR/tmp must exist), up to the open "http {"
# block; the caller adds its server blocks and the closing "}"
nginx_conf_head() {
	cat <<NGX
worker_processes 1;
pid $1/nginx.pid;
error_log $1/error.log;
events { worker_connections 64; }
http {
	access_log $1/access.log;
	client_body_temp_path $1/tmp;
	proxy_temp_path $1/tmp;
	fastcgi_temp_path $1/tmp;
	default_type application/octet-stream;
NGX
}
