// `ip rule` listings of the two real policy-routing cases (shared/reference/mark-usage-by-component.md),
// as `ip rule` prints them: wg-quick with Table=auto and a /0 AllowedIPs (fwmark = table = 51820), and
// Tailscale's rules (bypass mark 0x80000 in the 0xff0000 range, its routes in table 52).
export const WG_QUICK_RULES = `0:	from all lookup local
32764:	from all lookup main suppress_prefixlength 0
32765:	not from all fwmark 0xca6c lookup 51820
32766:	from all lookup main
32767:	from all lookup default
`;

export const TAILSCALE_RULES = `0:	from all lookup local
5210:	from all fwmark 0x80000/0xff0000 lookup main
5230:	from all fwmark 0x80000/0xff0000 lookup default
5250:	from all fwmark 0x80000/0xff0000 unreachable
5270:	from all lookup 52
32766:	from all lookup main
32767:	from all lookup default
`;
