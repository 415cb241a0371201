package io.asyncroutes.fetch;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.hc.client5.http.DnsResolver;
import org.apache.hc.client5.http.SystemDefaultDnsResolver;

/**
 * Server-side request forgery guard for the context fetch. Only http/https; loopback, private,
 * link-local (cloud metadata lives at 169.254.169.254), unique-local, multicast and unspecified
 * addresses are refused unless private targets are allowed or the host is allow-listed.
 *
 * <p>It is also the HTTP client's {@link DnsResolver}: the check runs on the addresses the client
 * actually connects to, so a name that resolves to a public address when checked and to a private
 * one when connecting (DNS rebinding) is still refused.
 */
public class SsrfGuard implements DnsResolver {

    private static final Set<String> METADATA_HOSTS = Set.of("metadata.google.internal", "metadata", "instance-data");

    private final boolean allowPrivate;
    private final Set<String> allowedHosts;

    public SsrfGuard(boolean allowPrivate, Iterable<String> allowedHosts) {
        this.allowPrivate = allowPrivate;
        java.util.HashSet<String> hosts = new java.util.HashSet<>();
        allowedHosts.forEach(h -> hosts.add(h.trim().toLowerCase(Locale.ROOT)));
        this.allowedHosts = hosts.stream().filter(h -> !h.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }

    /** Refused fetch target; a permanent error of that item, never retried. */
    public static class RefusedTarget extends UnknownHostException {
        public RefusedTarget(String message) {
            super(message);
        }
    }

    /** Cheap checks before any network work: scheme, host present, metadata names, literal addresses. */
    public void checkUrl(String url) throws RefusedTarget {
        URI uri;
        try {
            uri = new URI(url);
        } catch (Exception e) {
            throw new RefusedTarget("refused: not a valid URL");
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new RefusedTarget("refused: only http and https URLs are fetched");
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw new RefusedTarget("refused: URL has no host");
        }
        if (uri.getUserInfo() != null) {
            throw new RefusedTarget("refused: credentials in URLs are not allowed");
        }
        String name = stripBrackets(host.toLowerCase(Locale.ROOT));
        if (allowed(name)) {
            return;
        }
        if (METADATA_HOSTS.contains(name)) {
            throw new RefusedTarget("refused: cloud metadata host");
        }
        if (isLiteralAddress(name)) {
            try {
                checkAddress(name, InetAddress.getByName(name));
            } catch (RefusedTarget e) {
                throw e;
            } catch (UnknownHostException e) {
                throw new RefusedTarget("refused: bad address");
            }
        }
    }

    @Override
    public InetAddress[] resolve(String host) throws UnknownHostException {
        InetAddress[] addresses = SystemDefaultDnsResolver.INSTANCE.resolve(host);
        String name = stripBrackets(host.toLowerCase(Locale.ROOT));
        if (!allowed(name)) {
            for (InetAddress address : addresses) {
                checkAddress(name, address);
            }
        }
        return addresses;
    }

    @Override
    public String resolveCanonicalHostname(String host) throws UnknownHostException {
        return SystemDefaultDnsResolver.INSTANCE.resolveCanonicalHostname(host);
    }

    private boolean allowed(String host) {
        return allowPrivate || allowedHosts.contains(host);
    }

    private static void checkAddress(String host, InetAddress address) throws RefusedTarget {
        String why = refusal(address);
        if (why != null) {
            throw new RefusedTarget("refused: " + host + " is a " + why + " address");
        }
    }

    /** Why this address may not be fetched, or null if it may. */
    static String refusal(InetAddress address) {
        if (address instanceof Inet6Address v6) {
            byte[] b = v6.getAddress();
            if (isIpv4Mapped(b)) {
                try {
                    return refusal(InetAddress.getByAddress(java.util.Arrays.copyOfRange(b, 12, 16)));
                } catch (UnknownHostException e) {
                    return "malformed";
                }
            }
            if ((b[0] & 0xfe) == 0xfc) {
                return "unique-local";
            }
        }
        if (address.isLoopbackAddress()) {
            return "loopback";
        }
        if (address.isAnyLocalAddress()) {
            return "unspecified";
        }
        if (address.isLinkLocalAddress()) {
            return "link-local";
        }
        if (address.isSiteLocalAddress()) {
            return "private";
        }
        if (address.isMulticastAddress()) {
            return "multicast";
        }
        if (address instanceof Inet4Address) {
            byte[] b = address.getAddress();
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            if (first == 100 && second >= 64 && second <= 127) {
                return "shared (carrier-grade NAT)";
            }
            if (first == 0) {
                return "unspecified";
            }
        }
        return null;
    }

    private static boolean isIpv4Mapped(byte[] b) {
        for (int i = 0; i < 10; i++) {
            if (b[i] != 0) {
                return false;
            }
        }
        return (b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff;
    }

    private static boolean isLiteralAddress(String host) {
        return host.contains(":") || host.matches("[0-9.]+") || host.matches("0x[0-9a-f.x]+");
    }

    private static String stripBrackets(String host) {
        return host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
    }
}
