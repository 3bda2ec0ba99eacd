package ferry.s3;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.checksum.Crc32c;
import ferry.store.ChecksumMismatchException;
import ferry.store.Location;
import ferry.store.ObjectExistsException;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectOutput;
import ferry.store.ObjectStore;
import ferry.store.StoreException;
import ferry.store.Stores;
import ferry.store.WriteOptions;
import ferry.testing.S3TestServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.core.async.AsyncRequestBody;

/** What the S3 store promises beyond the store contract, against s3proxy on loopback. */
@Timeout(60)
class S3StoreTest {
    private static final String BUCKET = "ferry-s3";
    private static S3TestServer server;
    private static S3Config config;
    private static S3Store store;

    private final Location root = Location.of("s3://" + BUCKET + "/" + UUID.randomUUID() + "/");

    @TempDir
    Path temp;

    @BeforeAll
    static void startServer() throws IOException {
        server = S3TestServer.newServer();
        server.createBucket(BUCKET);
        config = S3Config.fromEnvironment(server.environment()).withPartSize(S3Config.MIN_PART_SIZE);
        store = new S3Store(config);
    }

    @AfterAll
    static void stopServer() {
        if (store != null) {
            store.close();
        }
        if (server != null) {
            server.close();
        }
    }

    static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    static ObjectInfo put(ObjectStore store, Location location, byte[] bytes, WriteOptions options)
            throws IOException {
        try (ObjectOutput out = store.createOrOverwrite(location, options)) {
            // Uneven slices, so that part boundaries fall inside writes.
            for (int offset = 0; offset < bytes.length; offset += 1_000_003) {
                out.write(bytes, offset, Math.min(1_000_003, bytes.length - offset));
            }
            return out.commit();
        }
    }

    private static byte[] read(ObjectStore store, Location location) throws IOException {
        try (InputStream in = store.openStream(location)) {
            return in.readAllBytes();
        }
    }

    private static List<String> pendingUploads(S3Store store) {
        List<String> keys = new ArrayList<>();
        store.client().listMultipartUploads(b -> b.bucket(BUCKET)).join().uploads().forEach(u -> keys.add(u.key()));
        return keys;
    }

    private List<String> keys(ObjectListing listing) throws IOException {
        List<String> keys = new ArrayList<>();
        while (listing.hasNext()) {
            keys.add(root.relativize(listing.next().location()));
        }
        return keys;
    }

    @Test
    @Timeout(60)
    void listings_cross_page_boundaries_on_keys_with_spaces_pluses_percents_and_control_characters()
            throws IOException {
        // A page holds 1,000 entries: each folder's boundary falls on a key with the character in it.
        for (String mark : List.of(" ", "+", "%", "\u0001", "\r")) {
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < 1_100; i++) {
                String key = "pages/" + (int) mark.charAt(0) + "/img" + mark + String.format("%04d", i) + ".jpg";
                server.putObject(BUCKET, key, new byte[] {1});
                expected.add(key);
            }
            ObjectListing listing = store.list(Location.of("s3://" + BUCKET + "/pages/" + (int) mark.charAt(0) + "/"));
            List<String> listed = new ArrayList<>();
            while (listing.hasNext() && listed.size() <= 1_100) {
                listed.add(listing.next().location().path());
            }
            assertThat(listed).as("keys with '%s'", mark).containsExactlyElementsOf(expected);
        }
    }

    @Test
    void an_object_ferry_wrote_is_copied_inside_the_store_with_its_crc32c_and_without_reading_its_bytes()
            throws IOException {
        byte[] bytes = randomBytes(3_000_000, 11);
        Location source = root.resolve("within/source.bin");
        put(store, source, bytes, WriteOptions.DEFAULT);
        ObjectInfo listed = store.list(root.resolve("within/")).next(); // as a listing has it: no CRC32C
        assertThat(listed.crc32c()).isNull();
        long gets = server.requests("GET");

        ObjectInfo copied = store.copyWithin(listed, root.resolve("within/copy.bin")).orElseThrow();

        assertThat(server.requests("GET")).as("no GET of the bytes").isEqualTo(gets);
        assertThat(copied.crc32c()).isEqualTo(Crc32c.of(bytes)).isEqualTo(store.stat(copied.location()).crc32c());
        assertThat(copied.size()).isEqualTo(bytes.length);
        assertThat(copied.etag()).isEqualTo(store.stat(copied.location()).etag());
        assertThat(read(store, copied.location())).isEqualTo(bytes);
        // onto itself: nothing to do, and the object stays as it is
        assertThat(store.copyWithin(listed, source).orElseThrow().crc32c()).isEqualTo(Crc32c.of(bytes));
        assertThat(read(store, source)).isEqualTo(bytes);
    }

    @Test
    void a_copy_inside_the_store_is_left_to_the_caller_without_a_crc32c_and_fails_when_the_source_changed_or_went()
            throws IOException {
        server.putObject(BUCKET, root.path() + "foreign.bin", "written by another tool".getBytes(UTF_8));
        ObjectInfo foreign = store.stat(root.resolve("foreign.bin"));
        assertThat(store.copyWithin(foreign, root.resolve("foreign-copy.bin"))).isEmpty();
        assertThat(store.find(root.resolve("foreign-copy.bin"))).isEmpty();

        Location source = root.resolve("changing.bin");
        ObjectInfo listed = put(store, source, "version one".getBytes(UTF_8), WriteOptions.DEFAULT);
        put(store, source, "version two".getBytes(UTF_8), WriteOptions.DEFAULT); // same size, new ETag
        assertThatThrownBy(() -> store.copyWithin(listed, root.resolve("changing-copy.bin")))
                .isInstanceOf(StoreException.class).hasMessageContaining("changing.bin changed during the copy");
        ObjectInfo unchecked = new ObjectInfo(source, listed.size(), listed.lastModified(), listed.etag(), null);
        put(store, source, "version three, longer".getBytes(UTF_8), WriteOptions.DEFAULT);
        assertThatThrownBy(() -> store.copyWithin(unchecked, root.resolve("changing-copy.bin")))
                .isInstanceOf(StoreException.class).hasMessageContaining("listed 11 bytes, now 21");
        assertThat(store.find(root.resolve("changing-copy.bin"))).isEmpty();

        store.delete(source);
        assertThatThrownBy(() -> store.copyWithin(listed, root.resolve("changing-copy.bin")))
                .isInstanceOf(ObjectNotFoundException.class).hasMessageContaining("changing.bin");
    }

    @Test
    void the_server_refuses_a_put_whose_bytes_do_not_match_the_md5_sent_with_them() throws Exception {
        // Ferry's small PUTs leave their payload unsigned and send its Content-MD5: the server is what checks it.
        URI url = URI.create(config.endpoint() + "/" + BUCKET + "/" + root.path() + "damaged.bin");
        Map<String, String> headers = Map.of("Content-MD5", S3Http.contentMd5("the bytes sent".getBytes(UTF_8), 14));
        HttpRequest.Builder request = HttpRequest.newBuilder(url)
                .PUT(HttpRequest.BodyPublishers.ofString("the bytes that arrived"));
        new SigV4(config.region(), config.credentials(), Clock.systemUTC()).sign("PUT", url, headers)
                .forEach(request::header);
        try (HttpClient client = HttpClient.newHttpClient()) {
            HttpResponse<String> answer = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            assertThat(answer.statusCode()).isEqualTo(400);
            assertThat(answer.body()).contains("BadDigest");
        }
        assertThatThrownBy(() -> store.stat(root.resolve("damaged.bin"))).isInstanceOf(ObjectNotFoundException.class);
    }

    @Test
    void multipart_object_round_trips_and_stat_reports_its_crc32c_from_metadata() throws IOException {
        Location location = root.resolve("multipart.bin");
        byte[] bytes = randomBytes(2 * S3Config.MIN_PART_SIZE + 12_345, 1);

        ObjectInfo written = put(store, location, bytes, WriteOptions.DEFAULT);

        assertThat(read(store, location)).isEqualTo(bytes);
        ObjectInfo stat = store.stat(location);
        assertThat(stat.size()).isEqualTo(bytes.length);
        assertThat(stat.crc32c()).isEqualTo(Crc32c.of(bytes)).isEqualTo(written.crc32c());
        assertThat(stat.etag()).isEqualTo(written.etag());
        assertThat(pendingUploads(store)).isEmpty();
    }

    @Test
    void multipart_object_with_announced_crc32c_carries_it_from_the_start() throws IOException {
        Location location = root.resolve("announced.bin");
        byte[] bytes = randomBytes(S3Config.MIN_PART_SIZE + 1, 2);

        ObjectInfo written = put(store, location, bytes, WriteOptions.expecting(Crc32c.of(bytes), bytes.length));

        assertThat(store.stat(location).crc32c()).isEqualTo(Crc32c.of(bytes));
        assertThat(store.stat(location).etag()).isEqualTo(written.etag());
        assertThat(read(store, location)).isEqualTo(bytes);
    }

    @Test
    void object_of_exactly_one_part_size_is_one_put_with_its_crc32c() throws IOException {
        Location location = root.resolve("one-part.bin");
        byte[] bytes = randomBytes(S3Config.MIN_PART_SIZE, 3);

        ObjectInfo written = put(store, location, bytes, WriteOptions.DEFAULT);

        // A multipart ETag ends in -<parts>; a single PUT's does not.
        assertThat(written.etag()).doesNotContain("-");
        assertThat(store.stat(location).crc32c()).isEqualTo(Crc32c.of(bytes));
        assertThat(store.stat(location).etag()).isEqualTo(written.etag());
    }

    @Test
    void object_larger_than_a_single_copy_records_its_crc32c_with_part_copies(@TempDir Path journal)
            throws IOException {
        UploadJournal uploads = new UploadJournal(journal, config.endpointText());
        try (S3Store smallCopies = new S3Store(config, S3Config.MIN_PART_SIZE + 1, uploads, S3Store.STREAMED_PUT_LIMIT,
                true)) {
            Location location = root.resolve("copied-in-parts.bin");
            byte[] bytes = randomBytes(2 * S3Config.MIN_PART_SIZE + 3, 4);

            ObjectInfo written = put(smallCopies, location, bytes, WriteOptions.DEFAULT);

            ObjectInfo stat = smallCopies.stat(location);
            assertThat(stat.crc32c()).isEqualTo(Crc32c.of(bytes));
            assertThat(stat.etag()).isEqualTo(written.etag());
            assertThat(read(smallCopies, location)).isEqualTo(bytes);
            assertThat(pendingUploads(smallCopies)).isEmpty();
            try (var entries = Files.list(journal)) {
                assertThat(entries.toList()).as("the upload's and the copy's journal entries, each settled").isEmpty();
            }
        }
    }

    @Test
    void close_without_commit_leaves_no_object_and_no_pending_multipart_upload() throws IOException {
        Location location = root.resolve("abandoned.bin");
        try (ObjectOutput out = store.createOrOverwrite(location, WriteOptions.DEFAULT)) {
            out.write(randomBytes(3 * S3Config.MIN_PART_SIZE + 5, 5));
            assertThat(((S3Output) out).uploadId()).isNotNull();
        }
        assertThatThrownBy(() -> store.stat(location)).isInstanceOf(ObjectNotFoundException.class);
        assertThat(pendingUploads(store)).doesNotContain(location.path());
    }

    @Test
    void wrong_announced_crc32c_on_a_multipart_object_aborts_the_upload() throws IOException {
        Location location = root.resolve("mismatch.bin");
        byte[] bytes = randomBytes(S3Config.MIN_PART_SIZE + 10, 6);

        assertThatThrownBy(() -> put(store, location, bytes, WriteOptions.expecting("00000000", bytes.length)))
                .isInstanceOf(ChecksumMismatchException.class)
                .hasMessageContaining(location.toString());
        assertThatThrownBy(() -> store.stat(location)).isInstanceOf(ObjectNotFoundException.class);
        assertThat(pendingUploads(store)).doesNotContain(location.path());
    }

    @Test
    void two_exclusive_creates_of_one_key_have_one_winner_and_the_loser_is_told_the_location() throws IOException {
        Location location = root.resolve("versions/v1.json");
        ObjectOutput first = store.create(location, WriteOptions.DEFAULT);
        ObjectOutput second = store.create(location, WriteOptions.DEFAULT);
        first.write("first".getBytes(UTF_8));
        second.write("second".getBytes(UTF_8));

        first.commit();

        assertThatThrownBy(second::commit)
                .isInstanceOf(ObjectExistsException.class)
                .hasMessageContaining(location.toString());
        second.close();
        assertThat(read(store, location)).isEqualTo("first".getBytes(UTF_8));
    }

    @Test
    void exclusive_multipart_create_of_an_existing_key_fails_and_leaves_no_upload() throws IOException {
        Location location = root.resolve("big-version.bin");
        put(store, location, "original".getBytes(UTF_8), WriteOptions.DEFAULT);

        assertThatThrownBy(() -> {
                    try (ObjectOutput out = store.create(location, WriteOptions.DEFAULT)) {
                        out.write(randomBytes(S3Config.MIN_PART_SIZE + 1, 7));
                        out.commit();
                    }
                })
                .isInstanceOf(ObjectExistsException.class);
        assertThat(read(store, location)).isEqualTo("original".getBytes(UTF_8));
        assertThat(pendingUploads(store)).doesNotContain(location.path());
    }

    @Test
    void exclusive_create_fails_closed_on_a_server_that_ignores_if_none_match() throws IOException {
        try (S3TestServer shipped = S3TestServer.builder().ignoreIfNoneMatch().start();
                S3Store ignoring = new S3Store(S3Config.fromEnvironment(shipped.environment()))) {
            Location bucket = shipped.createBucket("plain");
            Location location = bucket.resolve("v1.json");

            assertThatThrownBy(() -> ignoring.create(location, WriteOptions.DEFAULT))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("does not support conditional writes")
                    .hasMessageContaining(location.toString());
            // Told once per bucket, without probing again; the probe object is gone and nothing else was written.
            assertThatThrownBy(() -> ignoring.create(location, WriteOptions.DEFAULT))
                    .hasMessageContaining("does not support conditional writes");
            assertThat(ignoring.client().listObjectsV2(b -> b.bucket("plain")).join().contents()).isEmpty();
            // Overwriting writes still work there.
            put(ignoring, location, new byte[] {1}, WriteOptions.DEFAULT);
            assertThat(ignoring.stat(location).size()).isEqualTo(1);
        }
    }

    @Test
    void exclusive_creates_probe_inside_the_prefix_a_user_may_write() throws IOException {
        // Credentials granted one prefix of the bucket (a common IAM policy): nothing may be written at its root.
        try (S3TestServer scoped = S3TestServer.builder().writableOnlyUnder("team-a/").start();
                S3Store scopedStore = new S3Store(S3Config.fromEnvironment(scoped.environment()))) {
            Location bucket = scoped.createBucket("shared");
            Location manifest = bucket.resolve("team-a/store/.ferry/datasets/cifar/v1.json");
            Location data = bucket.resolve("team-a/data/part-0.bin");

            for (Location location : List.of(manifest, data)) {
                try (ObjectOutput out = scopedStore.create(location, WriteOptions.DEFAULT)) {
                    out.write(location.name().getBytes(UTF_8));
                    out.commit();
                }
            }

            assertThat(read(scopedStore, manifest)).isEqualTo("v1.json".getBytes(UTF_8));
            assertThat(scopedStore.client().listObjectsV2(b -> b.bucket("shared")).join().contents())
                    .extracting(o -> o.key()) // every probe deleted
                    .containsExactly("team-a/data/part-0.bin", "team-a/store/.ferry/datasets/cifar/v1.json");
            assertThatThrownBy(() -> scopedStore.create(bucket.resolve("elsewhere.bin"), WriteOptions.DEFAULT)
                    .commit()).hasMessageContaining("elsewhere.bin");
        }
    }

    @Test
    void keys_round_trip_exactly_through_write_list_stat_and_read() throws IOException {
        List<String> names = List.of("with space", "plus+sign", "percent%20literal", "unicode-\u00fc-\u65e5\u672c",
                "equals=and&ampersand", "tilde~star*(parens)", "semi;colon,comma",
                "control\u0001\u001f-characters", "cr\rlf\ntab\t", "xml<&>'\"");
        for (String name : names) {
            put(store, root.resolve("k/" + name), name.getBytes(UTF_8), WriteOptions.DEFAULT);
        }

        List<String> listed = keys(store.list(root));

        assertThat(listed).containsExactlyInAnyOrderElementsOf(names.stream().map(n -> "k/" + n).toList());
        for (String name : names) {
            Location location = root.resolve("k/" + name);
            assertThat(store.stat(location).size()).isEqualTo(name.getBytes(UTF_8).length);
            assertThat(read(store, location)).isEqualTo(name.getBytes(UTF_8));
        }
    }

    @Test
    void listing_crosses_pages_in_key_order_and_skips_folder_placeholders() throws IOException {
        List<String> names = List.of("a", "b", "c/1", "c/2", "d", "e", "f");
        for (String name : names) {
            put(store, root.resolve(name), new byte[] {1}, WriteOptions.DEFAULT);
        }
        store.client().putObject(b -> b.bucket(BUCKET).key(root.path() + "c/"), AsyncRequestBody.empty()).join();

        assertThat(keys(new S3Listing(store, root, 2, S3Listing.FOLDERS_AHEAD))).containsExactlyElementsOf(names);
    }

    @Test
    void tree_walk_lists_in_key_order_whatever_the_page_size_and_the_folders_requested_ahead() throws IOException {
        // Objects sorting around the folders' names on every level, three levels deep, each level longer than a
        // page. (s3proxy keeps objects as files, so no object can share a folder's name: S3ListingTest covers that.)
        List<String> names = new ArrayList<>();
        for (String folder : List.of("", "a/", "a/b/", "a/b/c/", "a/b-c/", "a/b.d/", "z/")) {
            for (String name : List.of("0", "b.txt", "b0", "c.d", "\u00e9")) {
                names.add(folder + name);
            }
        }
        for (String name : names) {
            put(store, root.resolve(name), new byte[] {1}, WriteOptions.DEFAULT);
        }
        store.client().putObject(b -> b.bucket(BUCKET).key(root.path() + "a/b/"), AsyncRequestBody.empty()).join();
        List<String> sorted = names.stream()
                .sorted((x, y) -> Arrays.compareUnsigned(x.getBytes(UTF_8), y.getBytes(UTF_8)))
                .toList();

        for (int pageSize : new int[] {1, 2, 5, S3Listing.PAGE_SIZE}) {
            for (int foldersAhead : new int[] {0, 1, S3Listing.FOLDERS_AHEAD}) {
                assertThat(keys(new S3Listing(store, root, pageSize, foldersAhead)))
                        .as("pages of %d, %d folders ahead", pageSize, foldersAhead)
                        .containsExactlyElementsOf(sorted);
                assertThat(keys(new S3Listing(store, root.resolve("a/b"), pageSize, foldersAhead)))
                        .as("a/b, pages of %d, %d folders ahead", pageSize, foldersAhead)
                        .containsExactlyElementsOf(sorted.stream().filter(k -> k.startsWith("a/b")).toList());
            }
        }
    }

    @Test
    void ranged_read_past_the_end_is_empty_and_a_zero_length_range_checks_the_object_exists() throws IOException {
        Location location = root.resolve("short");
        put(store, location, new byte[10], WriteOptions.DEFAULT);

        try (InputStream in = store.openStream(location, 50, 10)) {
            assertThat(in.readAllBytes()).isEmpty();
        }
        try (InputStream in = store.openStream(location, 3, 0)) {
            assertThat(in.readAllBytes()).isEmpty();
        }
        assertThatThrownBy(() -> store.openStream(root.resolve("absent"), 0, 0))
                .isInstanceOf(ObjectNotFoundException.class);
    }

    @Test
    void streams_closed_before_their_end_give_their_connection_back() throws IOException {
        Location location = root.resolve("partly-read.bin");
        put(store, location, randomBytes(1 << 20, 8), WriteOptions.DEFAULT);

        // More streams than the client has connections: a leaked connection would stall the loop.
        for (int i = 0; i < config.maxConcurrency() + 20; i++) {
            try (InputStream in = store.openStream(location)) {
                assertThat(in.read()).isNotNegative();
            }
        }
        assertThat(store.stat(location).size()).isEqualTo(1 << 20);
    }

    @Test
    void writing_or_deleting_at_a_prefix_is_refused_naming_it() {
        Location prefix = root.resolve("folder/");
        assertThatThrownBy(() -> store.createOrOverwrite(prefix, WriteOptions.DEFAULT))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(prefix.toString());
        assertThatThrownBy(() -> store.delete(prefix)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> store.stat(prefix)).isInstanceOf(ObjectNotFoundException.class);
    }

    @Test
    void missing_bucket_is_not_found_and_the_message_says_the_bucket_does_not_exist() {
        Location location = Location.of("s3://no-such-bucket/some/key");
        String said = "bucket 'no-such-bucket' does not exist";

        assertThatThrownBy(() -> store.stat(location)).isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining(said);
        assertThatThrownBy(() -> store.list(Location.of("s3://no-such-bucket/some/")))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining(said);
        assertThatThrownBy(() -> store.list(Location.of("s3://no-such-bucket/")))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining(said);
        assertThatThrownBy(() -> read(store, location)).isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining(said);
        assertThatThrownBy(() -> put(store, location, new byte[1], WriteOptions.DEFAULT))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining(said);
    }

    @Test
    void wrong_secret_key_is_refused_with_a_message_naming_the_credential_variables_but_not_the_secret()
            throws IOException {
        Map<String, String> environment = new HashMap<>(server.environment());
        environment.put("AWS_SECRET_ACCESS_KEY", "not-the-secret-0123456789");
        try (ObjectStore wrong = new S3StoreProvider().open(environment)) {
            assertThatThrownBy(() -> wrong.stat(root.resolve("x")))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("AWS_SECRET_ACCESS_KEY")
                    .hasMessageContaining(root.resolve("x").toString())
                    .hasMessageNotContaining("not-the-secret-0123456789");
        }
    }

    @Test
    void unknown_access_key_is_refused_with_a_message_naming_the_credential_variables() throws IOException {
        Map<String, String> environment = new HashMap<>(server.environment());
        environment.put("AWS_ACCESS_KEY_ID", "AKIAUNKNOWN");
        try (ObjectStore wrong = new S3StoreProvider().open(environment)) {
            assertThatThrownBy(() -> wrong.list(root))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("AWS_ACCESS_KEY_ID")
                    .hasMessageNotContaining(S3TestServer.SECRET_KEY);
        }
    }

    @Test
    void missing_credentials_are_reported_with_the_variables_and_files_to_set() throws IOException {
        Path home = Files.createDirectory(temp.resolve("home"));
        Map<String, String> environment = Map.of(
                "AWS_ENDPOINT_URL", server.endpoint().toString(),
                "AWS_EC2_METADATA_DISABLED", "true",
                "HOME", home.toString());

        assertThatThrownBy(() -> new S3StoreProvider().open(environment))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("AWS_ACCESS_KEY_ID")
                .hasMessageContaining("AWS_SECRET_ACCESS_KEY")
                .hasMessageContaining(home.resolve(".aws/credentials").toString())
                .hasMessageContaining(home.resolve(".aws/config").toString())
                .hasMessageContaining("AWS_PROFILE")
                .hasMessageContaining("AWS_EC2_METADATA_DISABLED=true");
    }

    @Test
    void credentials_and_region_come_from_the_profile_files_under_home() throws IOException {
        Path aws = Files.createDirectories(temp.resolve("home/.aws"));
        Files.writeString(aws.resolve("credentials"), "[default]\naws_access_key_id = wrong\n"
                + "aws_secret_access_key = wrong\n\n[test]\naws_access_key_id = " + S3TestServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3TestServer.SECRET_KEY + "\n");
        Files.writeString(aws.resolve("config"), "[profile test]\nregion = eu-west-3\n");
        Map<String, String> environment = Map.of(
                "AWS_ENDPOINT_URL", server.endpoint().toString(),
                "AWS_EC2_METADATA_DISABLED", "true",
                "AWS_PROFILE", "test",
                "HOME", temp.resolve("home").toString());

        S3Config fromProfile = S3Config.fromEnvironment(environment);

        assertThat(fromProfile.region()).isEqualTo("eu-west-3");
        assertThat(fromProfile.credentialsSource()).contains("profile 'test'");
        assertThat(fromProfile.toString()).doesNotContain(S3TestServer.SECRET_KEY);
        try (ObjectStore viaProfile = S3StoreProvider.newStore(fromProfile)) {
            put(viaProfile, root.resolve("p"), new byte[] {7}, WriteOptions.DEFAULT);
            assertThat(viaProfile.stat(root.resolve("p")).size()).isEqualTo(1);
        }
    }

    @Test
    void the_endpoint_comes_from_the_profiles_endpoint_url_as_for_the_aws_cli() throws IOException {
        Path aws = Files.createDirectories(temp.resolve("home/.aws"));
        Files.writeString(aws.resolve("credentials"), "[minio]\naws_access_key_id = " + S3TestServer.ACCESS_KEY
                + "\naws_secret_access_key = " + S3TestServer.SECRET_KEY + "\n");
        Files.writeString(aws.resolve("config"), "[profile minio]\nregion = us-east-1\nendpoint_url = "
                + server.endpoint() + "\n");
        Map<String, String> environment = new HashMap<>(Map.of(
                "AWS_EC2_METADATA_DISABLED", "true",
                "AWS_PROFILE", "minio",
                "HOME", temp.resolve("home").toString()));

        S3Config fromProfile = S3Config.fromEnvironment(environment);

        assertThat(fromProfile.endpoint()).isEqualTo(server.endpoint());
        assertThat(fromProfile.pathStyle()).isTrue();
        try (ObjectStore viaProfile = S3StoreProvider.newStore(fromProfile)) {
            put(viaProfile, root.resolve("e"), new byte[] {7}, WriteOptions.DEFAULT);
            assertThat(viaProfile.stat(root.resolve("e")).size()).isEqualTo(1);
        }
        // The variables win over the profile, and the AWS CLI's switch turns the profile's endpoint off.
        environment.put("AWS_ENDPOINT_URL", "http://127.0.0.1:9");
        assertThat(S3Config.fromEnvironment(environment).endpoint()).isEqualTo(URI.create("http://127.0.0.1:9"));
        environment.remove("AWS_ENDPOINT_URL");
        environment.put("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
        assertThat(S3Config.fromEnvironment(environment).endpoint()).isNull();
    }

    @Test
    void sdk_checksums_refused_by_the_server_are_reported_with_the_two_variables_to_set() throws IOException {
        Map<String, String> environment = new HashMap<>(server.environment());
        environment.put("AWS_REQUEST_CHECKSUM_CALCULATION", "when_supported");
        try (ObjectStore sdkChecksums = new S3StoreProvider().open(environment)) {
            assertThatThrownBy(() -> put(sdkChecksums, root.resolve("c"), new byte[100], WriteOptions.DEFAULT))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("AWS_REQUEST_CHECKSUM_CALCULATION=when_required")
                    .hasMessageContaining("AWS_RESPONSE_CHECKSUM_VALIDATION=when_required");
        }
    }

    @Test
    void the_store_is_found_through_its_provider_for_s3_locations() throws IOException {
        try (Stores stores = Stores.fromEnvironment(server.environment())) {
            ObjectStore found = stores.forLocation(root);
            put(found, root.resolve("via-stores"), new byte[] {1, 2}, WriteOptions.DEFAULT);
            assertThat(found.stat(root.resolve("via-stores")).size()).isEqualTo(2);
        }
    }

    @Test
    void requests_while_the_server_is_down_fail_naming_the_endpoint_and_succeed_after_restart() throws IOException {
        try (S3TestServer restartable = S3TestServer.newServer();
                S3Store client = new S3Store(S3Config.fromEnvironment(restartable.environment()))) {
            Location location = restartable.createBucket("restart").resolve("kept");
            put(client, location, new byte[] {42}, WriteOptions.DEFAULT);

            restartable.stop();
            assertThatThrownBy(() -> client.stat(location))
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("cannot reach S3 endpoint " + restartable.endpoint())
                    .hasMessageContaining("check AWS_ENDPOINT_URL and that the server is running")
                    .hasMessageContaining(location.toString());

            restartable.start();
            assertThat(read(client, location)).containsExactly(42);
        }
    }
}
