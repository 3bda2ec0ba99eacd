package ferry.s3;

import static java.nio.charset.StandardCharsets.UTF_8;

import ferry.checksum.Digests;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;

/**
 * AWS Signature Version 4 in the Authorization header, for the requests {@link S3Http} sends. The SDK's signer does
 * the same in about 20 us a request (its properties, request copies, a fresh MAC per step); this one keeps the day's
 * signing key in a ready MAC and takes a few, which on 8 KiB objects is a tenth of a request's CPU. SigV4Test holds
 * it to the SDK's signer, header for header.
 */
final class SigV4 {
    private static final String ALGORITHM = "AWS4-HMAC-SHA256";
    private static final String UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
    private static final HexFormat HEX = HexFormat.of();

    private final String region;
    private final AwsCredentialsProvider credentials;
    private final Clock clock;
    private volatile SigningKey key; // the key of the last request: it changes only with the day or the credentials

    private record SigningKey(String secret, String date, Mac mac) {
    }

    SigV4(String region, AwsCredentialsProvider credentials, Clock clock) {
        this.region = region;
        this.credentials = credentials;
        this.clock = clock;
    }

    /**
     * The headers to send for a request: {@code headers} (names in any case) and the signature's own
     * ({@code x-amz-date}, {@code x-amz-content-sha256}, {@code x-amz-security-token} with session credentials, and
     * {@code Authorization}), all signed along with the URL's host. The URL's path and query must already be
     * encoded as S3 expects (UTF-8, all but unreserved characters percent-encoded, as {@link S3Http} does).
     *
     * <p>The payload is not signed ({@code UNSIGNED-PAYLOAD}): a request with a body carries its
     * {@code Content-MD5} among the signed headers instead, which the server checks as it must compute the MD5 for
     * the ETag anyway, where the payload's SHA-256 cost the client (C1 has no SHA-256 intrinsic) 50 us per 8 KiB.
     */
    Map<String, String> sign(String method, URI url, Map<String, String> headers) {
        AwsCredentials identity = credentials.resolveCredentials();
        String timestamp = timestamp(ZonedDateTime.now(clock.withZone(ZoneOffset.UTC)));
        String date = timestamp.substring(0, 8);
        TreeMap<String, String> signed = new TreeMap<>();
        headers.forEach((name, value) -> signed.put(name.toLowerCase(Locale.ROOT), canonicalValue(value)));
        signed.put("host", url.getRawAuthority());
        signed.put("x-amz-content-sha256", UNSIGNED_PAYLOAD);
        signed.put("x-amz-date", timestamp);
        if (identity instanceof AwsSessionCredentials session) {
            signed.put("x-amz-security-token", session.sessionToken());
        }

        StringBuilder canonical = new StringBuilder(256).append(method).append('\n');
        String path = url.getRawPath();
        canonical.append(path == null || path.isEmpty() ? "/" : path).append('\n');
        canonical.append(canonicalQuery(url.getRawQuery())).append('\n');
        signed.forEach((name, value) -> canonical.append(name).append(':').append(value).append('\n'));
        String signedNames = String.join(";", signed.keySet());
        canonical.append('\n').append(signedNames).append('\n').append(UNSIGNED_PAYLOAD);

        String scope = date + "/" + region + "/s3/aws4_request";
        byte[] canonicalBytes = canonical.toString().getBytes(UTF_8);
        String toSign = ALGORITHM + "\n" + timestamp + "\n" + scope + "\n"
                + hex(Digests.sha256().digest(canonicalBytes));
        String signature = hex(mac(identity.secretAccessKey(), date).doFinal(toSign.getBytes(UTF_8)));

        signed.remove("host"); // the HTTP client sets it from the same URL
        signed.put("authorization", ALGORITHM + " Credential=" + identity.accessKeyId() + "/" + scope
                + ", SignedHeaders=" + signedNames + ", Signature=" + signature);
        return signed;
    }

    /** A header's value trimmed, with each run of spaces inside it made one space. */
    private static String canonicalValue(String value) {
        String stripped = value.strip();
        if (!stripped.contains("  ") && stripped.indexOf('\t') < 0 && stripped.indexOf('\n') < 0) {
            return stripped;
        }
        return stripped.replaceAll("\\s+", " ");
    }

    /** The query's parameters sorted by name, then value; they arrive encoded, as the canonical form wants them. */
    private static String canonicalQuery(String rawQuery) {
        if (rawQuery == null || rawQuery.isEmpty()) {
            return "";
        }
        List<String[]> pairs = new ArrayList<>();
        for (String pair : rawQuery.split("&")) {
            int equals = pair.indexOf('=');
            pairs.add(equals < 0 ? new String[] {pair, ""}
                    : new String[] {pair.substring(0, equals), pair.substring(equals + 1)});
        }
        pairs.sort((a, b) -> a[0].equals(b[0]) ? a[1].compareTo(b[1]) : a[0].compareTo(b[0]));
        StringBuilder out = new StringBuilder(rawQuery.length() + 8);
        for (String[] pair : pairs) {
            out.append(out.isEmpty() ? "" : "&").append(pair[0]).append('=').append(pair[1]);
        }
        return out.toString();
    }

    /** A MAC keyed with the signing key of {@code date}: derived once a day (or when the secret changes). */
    private Mac mac(String secret, String date) {
        SigningKey current = key;
        if (current == null || !current.date.equals(date) || !current.secret.equals(secret)) {
            byte[] derived = hmac(("AWS4" + secret).getBytes(UTF_8), date);
            derived = hmac(derived, region);
            derived = hmac(derived, "s3");
            derived = hmac(derived, "aws4_request");
            current = new SigningKey(secret, date, newMac(derived));
            key = current;
        }
        try {
            return (Mac) current.mac.clone(); // a keyed copy, cheaper than keying a new one
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] hmac(byte[] key, String data) {
        return newMac(key).doFinal(data.getBytes(UTF_8));
    }

    private static Mac newMac(byte[] key) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key, "HmacSHA256"));
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK cannot compute HMAC-SHA256", e);
        }
    }

    private static String hex(byte[] bytes) {
        return HEX.formatHex(bytes);
    }

    /** {@code yyyyMMdd'T'HHmmss'Z'}. */
    private static String timestamp(ZonedDateTime now) {
        char[] out = new char[16];
        put(out, 0, now.getYear(), 4);
        put(out, 4, now.getMonthValue(), 2);
        put(out, 6, now.getDayOfMonth(), 2);
        out[8] = 'T';
        put(out, 9, now.getHour(), 2);
        put(out, 11, now.getMinute(), 2);
        put(out, 13, now.getSecond(), 2);
        out[15] = 'Z';
        return new String(out);
    }

    private static void put(char[] out, int at, int value, int digits) {
        for (int i = at + digits - 1; i >= at; i--) {
            out[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }
}
