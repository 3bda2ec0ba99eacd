package ferry.s3;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import ferry.store.Location;
import ferry.store.ObjectListing;
import ferry.store.StoreException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Random;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The folder walk against a fake ListObjectsV2 that follows S3 where s3proxy cannot: keys in UTF-8 byte order, and
 * an object and a folder of the same name ({@code a/b} and {@code a/b/c}). Each listing is checked against the keys
 * sorted by the test itself.
 */
@Timeout(60)
class S3ListingTest {
    private static final Comparator<String> UTF8_ORDER = Comparator.comparing(k -> k.getBytes(UTF_8),
            Arrays::compareUnsigned);

    private NavigableSet<String> keys = new ConcurrentSkipListSet<>(UTF8_ORDER);
    private final AtomicInteger requests = new AtomicInteger();
    private HttpServer http;
    private S3Store store;

    @BeforeEach
    void startServer() throws IOException {
        http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        http.createContext("/", this::answer);
        http.start();
        store = new S3Store(S3Config.fromEnvironment(Map.of(
                "AWS_ENDPOINT_URL", "http://127.0.0.1:" + http.getAddress().getPort(),
                "AWS_ACCESS_KEY_ID", "fake-access-key",
                "AWS_SECRET_ACCESS_KEY", "fake-secret-key",
                "AWS_REGION", "us-east-1",
                "AWS_EC2_METADATA_DISABLED", "true")));
    }

    @AfterEach
    void stopServer() {
        store.close();
        http.stop(0);
    }

    /** ListObjectsV2 of bucket {@code b} as S3 answers it: objects and common prefixes paged together in key order. */
    private void answer(HttpExchange exchange) throws IOException {
        requests.incrementAndGet();
        Map<String, String> query = new HashMap<>();
        for (String pair : exchange.getRequestURI().getRawQuery().split("&")) {
            String[] nameValue = pair.split("=", 2);
            query.put(nameValue[0], nameValue.length < 2 ? "" : URLDecoder.decode(nameValue[1], UTF_8));
        }
        String prefix = query.getOrDefault("prefix", "");
        String delimiter = query.get("delimiter");
        int maxKeys = Integer.parseInt(query.getOrDefault("max-keys", "1000"));
        // The token is the last entry of the previous page: "K" and a key, or "P" and a common prefix.
        String token = query.containsKey("continuation-token")
                ? new String(Base64.getUrlDecoder().decode(query.get("continuation-token")), UTF_8)
                : null;
        String skipUnder = token != null && token.startsWith("P") ? token.substring(1) : null;
        StringBuilder xml = new StringBuilder("<ListBucketResult><Name>b</Name>");
        String last = null;
        boolean truncated = false;
        int count = 0;
        for (String key : token == null ? keys.tailSet(prefix, true) : keys.tailSet(token.substring(1), false)) {
            if (!key.startsWith(prefix)) {
                break; // keys that share a beginning are contiguous in byte order
            }
            if (skipUnder != null && key.startsWith(skipUnder)) {
                continue; // rolled up into a common prefix already returned
            }
            if (count == maxKeys) {
                truncated = true;
                break;
            }
            int slash = delimiter == null ? -1 : key.indexOf(delimiter, prefix.length());
            if (slash < 0) {
                xml.append("<Contents><Key>").append(escape(key)).append("</Key>")
                        .append("<LastModified>2025-01-01T00:00:00.000Z</LastModified><ETag>\"e\"</ETag>")
                        .append("<Size>1</Size></Contents>");
                last = "K" + key;
            } else {
                skipUnder = key.substring(0, slash + 1);
                xml.append("<CommonPrefixes><Prefix>").append(escape(skipUnder)).append("</Prefix></CommonPrefixes>");
                last = "P" + skipUnder;
            }
            count++;
        }
        xml.append("<IsTruncated>").append(truncated).append("</IsTruncated>");
        if (truncated) {
            xml.append("<NextContinuationToken>")
                    .append(Base64.getUrlEncoder().encodeToString(last.getBytes(UTF_8)))
                    .append("</NextContinuationToken>");
        }
        byte[] body = xml.append("</ListBucketResult>").toString().getBytes(UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/xml");
        exchange.sendResponseHeaders(200, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static String escape(String key) {
        return key.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    private List<String> list(String prefix, int pageSize, int foldersAhead) throws IOException {
        List<String> listed = new ArrayList<>();
        ObjectListing listing = new S3Listing(store, Location.of("s3://b/" + prefix), pageSize, foldersAhead);
        while (listing.hasNext()) {
            listed.add(listing.next().location().path());
        }
        return listed;
    }

    /** What a listing of {@code prefix} must return: the keys below it in byte order, less placeholders and probes. */
    private List<String> expected(String prefix) {
        return keys.tailSet(prefix, true).stream()
                .filter(k -> k.startsWith(prefix) && !k.endsWith("/") && !k.startsWith(ConditionalWrites.PROBE_PREFIX))
                .toList();
    }

    @Test
    void an_object_sorts_before_the_folder_of_its_name_and_keys_above_u_ffff_by_their_utf8_bytes() throws IOException {
        keys.addAll(List.of("a/b", "a/b/", "a/b/c", "a/b/c/d", "a/b.txt", "a/b0", "a/b-c/d", "x\uff21", "x\uff21/1",
                "x\ud83d\ude00", "x\ud83d\ude00/1", ConditionalWrites.PROBE_PREFIX + "p1"));

        assertThat(list("", 1000, 16)).containsExactly("a/b", "a/b-c/d", "a/b.txt", "a/b/c", "a/b/c/d", "a/b0",
                "x\uff21", "x\uff21/1", "x\ud83d\ude00", "x\ud83d\ude00/1");
        assertThat(list("a/b", 1, 1)).containsExactly("a/b", "a/b-c/d", "a/b.txt", "a/b/c", "a/b/c/d", "a/b0");
        assertThat(list("a/b/", 2, 0)).containsExactly("a/b/c", "a/b/c/d");
    }

    @Test
    void a_server_sorting_by_utf16_units_is_put_in_s3_order_within_a_page_and_refused_where_pages_cross_it()
            throws IOException {
        keys = new ConcurrentSkipListSet<>(); // s3proxy's order: a surrogate pair (😀) before U+FF71 (ｱ)
        keys.addAll(List.of("x/a", "x/\uff71", "x/\ud83d\ude00", "x/\ud83d\ude00d/1"));

        assertThat(list("", 1000, 16)).containsExactly("x/a", "x/\uff71", "x/\ud83d\ude00", "x/\ud83d\ude00d/1");
        // One key per page: the server's order shows across pages, and no sort of a page can hide it.
        assertThatThrownBy(() -> list("", 1, 0))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("out of key order ('x/\uff71' after 'x/\ud83d\ude00d/1')")
                .hasMessageContaining("does not sort keys by their UTF-8 bytes");
    }

    @Test
    void random_trees_list_as_their_sorted_keys_whatever_the_page_size_and_the_folders_ahead() throws IOException {
        // Few letters, so that names collide: objects and folders of one name, placeholders, "//", prefixes that
        // end inside a name.
        String[] letters = {"a", "b", "/", "/", ".", "-", "0", "\u00e9", "\uff21", "\ud83d\ude00"};
        Random random = new Random(20251126);
        for (int tree = 0; tree < 40; tree++) {
            keys.clear();
            for (int i = 0; i < 60; i++) {
                StringBuilder key = new StringBuilder(letters[random.nextInt(2)]);
                for (int length = random.nextInt(7); length > 0; length--) {
                    key.append(letters[random.nextInt(letters.length)]);
                }
                keys.add(key.toString());
            }
            for (String prefix : List.of("", "a", "a/", "b/a")) {
                int pageSize = 1 + random.nextInt(4);
                int foldersAhead = random.nextInt(4);
                assertThat(list(prefix, pageSize, foldersAhead))
                        .as("tree %d %s, prefix '%s', pages of %d, %d folders ahead", tree, keys, prefix, pageSize,
                                foldersAhead)
                        .containsExactlyElementsOf(expected(prefix));
            }
        }
    }

    @Test
    void each_folder_is_requested_once_and_at_most_folders_ahead_before_the_walk_needs_it() throws IOException {
        for (int folder = 0; folder < 20; folder++) {
            for (int file = 0; file < 3; file++) {
                keys.add("d" + (char) ('a' + folder) + "/f" + file);
            }
        }
        ObjectListing listing = new S3Listing(store, Location.of("s3://b/"), 1000, 3);

        assertThat(listing.hasNext()).isTrue();
        // The bucket's level, the first folder, and at most 3 more requested ahead: not all 20.
        assertThat(requests.get()).isLessThanOrEqualTo(1 + 1 + 3);
        int listed = 0;
        while (listing.hasNext()) {
            listing.next();
            listed++;
        }
        assertThat(listed).isEqualTo(60);
        assertThat(requests.get()).isEqualTo(1 + 20);
    }
}
