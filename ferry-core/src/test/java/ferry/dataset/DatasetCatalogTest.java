package ferry.dataset;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ferry.checksum.Crc32c;
import ferry.store.Location;
import ferry.store.ObjectExistsException;
import ferry.store.ObjectNotFoundException;
import ferry.store.StoreException;
import ferry.store.Stores;
import ferry.transfer.TransferListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetCatalogTest {
    @TempDir
    Path folder;

    private final Stores stores = Stores.fromEnvironment(Map.of());
    private final Clock clock = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);
    private DatasetCatalog catalog;
    private Path data;

    @BeforeEach
    void setUp() throws Exception {
        catalog = new DatasetCatalog(stores, Location.of(folder.resolve("store")), clock, 8);
        data = folder.resolve("data");
        write("train/a.bin", "alpha");
        write("train/b.bin", "bravo!");
        write("labels.csv", "a,0\nb,1\n");
    }

    @AfterEach
    void tearDown() throws Exception {
        stores.close();
    }

    private Manifest create(String name, Path from) throws Exception {
        return catalog.create(name, Location.of(from), false, DatasetCatalog.KnownChecksums.NONE,
                TransferListener.NONE);
    }

    private void write(String key, String content) throws Exception {
        Path file = data.resolve(key);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    @Test
    void create_records_every_object_with_size_and_crc32c_in_key_order() throws Exception {
        Manifest manifest = create("toy", data);

        assertThat(manifest.ref()).hasToString("toy@v1");
        assertThat(manifest.base()).isEqualTo(Location.of(data).asDirectory().toString());
        assertThat(manifest.derivedFrom()).isNull();
        assertThat(manifest.createdAt()).isEqualTo(clock.instant());
        assertThat(manifest.entries()).extracting(Manifest.Entry::key)
                .containsExactly("labels.csv", "train/a.bin", "train/b.bin");
        Manifest.Entry a = manifest.entries().get(1);
        assertThat(a.size()).isEqualTo(5);
        assertThat(a.crc32c()).isEqualTo(Crc32c.of("alpha".getBytes(UTF_8)));
        assertThat(manifest.summary().objects()).isEqualTo(3);
        assertThat(manifest.summary().bytes()).isEqualTo(5 + 6 + 8);
        assertThat(manifest.summary().histogram().getFirst().objects()).isEqualTo(3);
    }

    @Test
    void a_store_whose_root_holds_the_data_keeps_its_own_manifests_out_of_new_versions() throws Exception {
        DatasetCatalog inside = new DatasetCatalog(stores, Location.of(data), clock, 8); // the store is the data
        Manifest first = inside.create("whole", Location.of(data), false, DatasetCatalog.KnownChecksums.NONE,
                TransferListener.NONE);
        Manifest second = inside.create("whole", Location.of(data), false, DatasetCatalog.KnownChecksums.NONE,
                TransferListener.NONE);

        assertThat(Files.exists(data.resolve(".ferry/datasets/whole/v1.json"))).isTrue();
        assertThat(second.entries()).extracting(Manifest.Entry::key)
                .isEqualTo(first.entries().stream().map(Manifest.Entry::key).toList())
                .containsExactly("labels.csv", "train/a.bin", "train/b.bin");
    }

    @Test
    void versions_are_numbered_immutable_and_keep_lineage() throws Exception {
        create("toy", data);
        write("train/c.bin", "charlie");
        Manifest second = create("toy", data);

        assertThat(second.ref()).hasToString("toy@v2");
        assertThat(second.derivedFrom()).isEqualTo("toy@v1");
        assertThat(catalog.versions("toy")).containsExactly(1, 2);
        assertThat(catalog.names()).containsExactly("toy");
        assertThat(catalog.load(DatasetRef.parse("toy")).version()).isEqualTo(2);
        assertThat(catalog.load(DatasetRef.parse("toy@v1")).entries()).hasSize(3);
    }

    @Test
    void a_version_already_taken_is_never_overwritten() throws Exception {
        Manifest first = create("toy", data);
        Location v2 = catalog.manifestLocation("toy", 2);
        // Another writer claims v2 between our listing of versions and our write: simulate by writing it first
        // and making the catalog think v1 is the latest, through a second catalog instance racing on the same store.
        Files.createDirectories(v2.toPath().getParent());
        Files.write(v2.toPath(), ManifestCodec.toJson(new Manifest(Manifest.FORMAT, "toy", 2, first.base(),
                clock.instant(), "toy@v1", first.summary(), first.entries())));
        byte[] before = Files.readAllBytes(v2.toPath());

        Manifest third = create("toy", data);

        assertThat(third.version()).isEqualTo(3);
        assertThat(Files.readAllBytes(v2.toPath())).isEqualTo(before);
    }

    @Test
    void concurrent_creates_of_one_version_have_one_winner_and_the_loser_is_told() throws Exception {
        int writers = 6;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(writers);
        try {
            var start = new java.util.concurrent.CountDownLatch(1);
            var results = new java.util.ArrayList<java.util.concurrent.Future<Object>>();
            for (int i = 0; i < writers; i++) {
                results.add(pool.submit(() -> {
                    start.await();
                    try {
                        return create("race", data);
                    } catch (ObjectExistsException e) {
                        return e;
                    }
                }));
            }
            start.countDown();
            var versions = new java.util.HashSet<Integer>();
            for (var result : results) {
                Object outcome = result.get();
                if (outcome instanceof Manifest manifest) {
                    assertThat(versions.add(manifest.version())).as("two writers won v" + manifest.version()).isTrue();
                } else {
                    assertThat(((ObjectExistsException) outcome).getMessage())
                            .contains("race@v")
                            .contains("another writer");
                }
            }
            assertThat(catalog.versions("race")).containsExactlyElementsOf(versions.stream().sorted().toList());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void verify_passes_on_intact_data_and_names_each_changed_or_missing_object() throws Exception {
        Manifest manifest = create("toy", data);
        assertThat(catalog.verify(manifest, TransferListener.NONE).succeeded()).isTrue();

        write("train/a.bin", "alphA"); // same size, one byte flipped
        Files.delete(data.resolve("labels.csv"));
        VerifyReport report = catalog.verify(manifest, TransferListener.NONE);

        assertThat(report.succeeded()).isFalse();
        assertThat(report.objects()).isEqualTo(1);
        assertThat(report.mismatches()).extracting(f -> f.key()).containsExactly("labels.csv", "train/a.bin");
        assertThat(report.mismatches().get(0).reason()).contains("missing");
        assertThat(report.mismatches().get(1).reason()).contains("CRC32C mismatch").contains("train/a.bin");
    }

    @Test
    void verify_of_a_local_dataset_never_reads_outside_its_folder_for_a_tampered_key() throws Exception {
        Manifest manifest = create("toy", data);
        // A file outside the dataset's folder, and a manifest entry that names it by climbing out with '..'.
        Files.writeString(folder.resolve("secret.bin"), "alpha");
        Manifest.Entry a = manifest.entries().stream().filter(e -> e.key().equals("train/a.bin")).findFirst()
                .orElseThrow();
        Manifest tampered = new Manifest(Manifest.FORMAT, "toy", 1, manifest.base(), manifest.createdAt(), null,
                manifest.summary(), java.util.List.of(new Manifest.Entry("../secret.bin", a.size(), a.crc32c(),
                        null, a.etag(), a.lastModified())));

        VerifyReport report = catalog.verify(tampered, TransferListener.NONE);

        assertThat(report.succeeded()).isFalse();
        assertThat(report.mismatches()).extracting(f -> f.key()).containsExactly("../secret.bin");
        assertThat(report.mismatches().get(0).reason()).contains("refusing object key");
    }

    @Test
    void known_checksums_are_used_instead_of_reading() throws Exception {
        // A deliberately wrong "known" CRC shows it was taken without reading the object.
        Manifest manifest = catalog.create("toy", Location.of(data), false,
                (key, object) -> key.equals("labels.csv") ? "0badc0de" : null, TransferListener.NONE);
        assertThat(manifest.entries().getFirst().crc32c()).isEqualTo("0badc0de");
        assertThat(manifest.entries().get(1).crc32c()).isEqualTo(Crc32c.of("alpha".getBytes(UTF_8)));
    }

    @Test
    void md5_is_recorded_on_request_and_checked_by_verify() throws Exception {
        Manifest manifest = catalog.create("toy", Location.of(data), true, DatasetCatalog.KnownChecksums.NONE,
                TransferListener.NONE);
        String alphaMd5 = java.util.HexFormat.of()
                .formatHex(java.security.MessageDigest.getInstance("MD5").digest("alpha".getBytes(UTF_8)));
        assertThat(manifest.entries().get(1).md5()).isEqualTo(alphaMd5);
        assertThat(create("plain", data).entries().getFirst().md5())
                .isNull();
        assertThat(catalog.verify(manifest, TransferListener.NONE).succeeded()).isTrue();
    }

    @Test
    void create_from_an_empty_or_missing_source_fails_and_writes_nothing() throws Exception {
        assertThatThrownBy(() -> create("toy", folder.resolve("nothing")))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("nothing");
        assertThat(catalog.names()).isEmpty();
    }

    @Test
    void loading_a_missing_dataset_or_version_names_it() throws Exception {
        assertThatThrownBy(() -> catalog.load(DatasetRef.parse("ghost")))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("ghost");
        create("toy", data);
        assertThatThrownBy(() -> catalog.load(DatasetRef.parse("toy@v9")))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("toy@v9");
    }

    @Test
    void a_manifest_that_does_not_parse_is_an_error_naming_it() throws Exception {
        create("toy", data);
        Path manifest = catalog.manifestLocation("toy", 1).toPath();
        Files.writeString(manifest, "{\"format\": \"ferry.manifest/1\", \"entries\": [");

        assertThatThrownBy(() -> catalog.load(DatasetRef.parse("toy@v1")))
                .isInstanceOf(StoreException.class)
                .hasMessageContaining("v1.json")
                .hasMessageContaining("not a valid Ferry manifest");

        Files.writeString(manifest, "{\"format\": \"something/else\", \"entries\": []}");
        assertThatThrownBy(() -> catalog.load(DatasetRef.parse("toy@v1")))
                .hasMessageContaining("format is something/else");
    }

    @Test
    void a_manifest_missing_what_the_commands_show_or_claiming_another_version_is_an_error_naming_it()
            throws Exception {
        create("toy", data);
        Path manifest = catalog.manifestLocation("toy", 1).toPath();
        String intact = Files.readString(manifest);
        List<String> damaged = List.of(
                intact.replaceFirst("\"createdAt\" *: *\"[^\"]*\",", ""),
                intact.replaceFirst("\"histogram\" *: *\\[", "\"sizes\" : ["),
                intact.replaceFirst("\"version\" *: *1,", "\"version\" : 2,"),
                intact.replaceFirst("\"name\" *: *\"toy\"", "\"name\" : \"other\""),
                intact.replaceFirst("\"base\" *: *\"[^\"]*\"", "\"base\" : \"gopher://x/\""),
                intact.replaceFirst("\"size\" *: *5,", "\"size\" : -5,"));
        for (String json : damaged) {
            assertThat(json).isNotEqualTo(intact);
            Files.writeString(manifest, json);

            assertThatThrownBy(() -> catalog.load(DatasetRef.parse("toy@v1")))
                    .as(json)
                    .isInstanceOf(StoreException.class)
                    .hasMessageContaining("v1.json")
                    .hasMessageContaining("not a valid Ferry manifest");
        }
    }
}
