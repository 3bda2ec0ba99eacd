package ferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import ferry.checksum.Crc32c;
import ferry.store.Location;
import ferry.store.MemoryStore;
import ferry.store.ObjectNotFoundException;
import ferry.store.PassedOver;
import ferry.store.Stores;
import ferry.store.local.LocalStore;
import ferry.store.local.ProcessLock;
import ferry.time.Ticker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyncerTest {
    @TempDir
    Path folder;

    private final ReadCountingStore reads = new ReadCountingStore(new LocalStore());
    private final Stores stores = Stores.fromEnvironment(Map.of()).with("file", reads);
    private Syncer syncer;
    private Path src;
    private Path dst;

    @BeforeEach
    void setUp() throws Exception {
        syncer = new Syncer(stores, folder.resolve("state"), Clock.systemUTC(), Ticker.SYSTEM);
        src = folder.resolve("src");
        dst = folder.resolve("dst");
        for (int i = 0; i < 30; i++) {
            write(src, "d" + (i % 4) + "/f" + i + ".bin", "content " + i);
        }
    }

    @AfterEach
    void tearDown() throws Exception {
        stores.close();
    }

    private static void write(Path root, String key, String content) throws Exception {
        Path file = root.resolve(key);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }

    private SyncReport sync(Syncer.Options options) throws Exception {
        return syncer.sync(Location.of(src), Location.of(dst), options, TransferListener.NONE);
    }

    private static Syncer.Options options(boolean delete, boolean dryRun, Filter filter) {
        return new Syncer.Options(8, Syncer.Compare.CHECKSUM, delete, dryRun, filter, 0, false, false);
    }

    /** Gives a file new bytes of the same size and puts its old time back: what {@code cp -p} or {@code touch -r} leave. */
    private static void rewriteKeepingTime(Path root, String key, String content) throws Exception {
        Path file = root.resolve(key);
        FileTime time = Files.getLastModifiedTime(file);
        write(root, key, content);
        Files.setLastModifiedTime(file, time);
    }

    /** Sets every source file's time an hour back, so the recorded state is trusted for it. */
    private void ageSources() throws Exception {
        for (String key : files(src)) {
            Files.setLastModifiedTime(src.resolve(key), FileTime.from(Instant.now().minusSeconds(3600)));
        }
    }

    private static List<String> files(Path root) throws Exception {
        try (Stream<Path> files = Files.walk(root)) {
            return files.filter(Files::isRegularFile).map(p -> root.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void first_sync_copies_everything_and_a_second_sync_skips_everything() throws Exception {
        SyncReport first = sync(Syncer.Options.DEFAULT);
        assertThat(first.succeeded()).isTrue();
        assertThat(first.copied().objects()).isEqualTo(30);
        assertThat(files(dst)).isEqualTo(files(src));
        assertThat(Files.readString(dst.resolve("d1/f5.bin"))).isEqualTo("content 5");

        SyncReport second = sync(Syncer.Options.DEFAULT);
        assertThat(second.copied().objects()).isZero();
        assertThat(second.skipped().objects()).isEqualTo(30);
    }

    @Test
    void a_changed_object_of_the_same_size_is_found_by_checksum_and_resent() throws Exception {
        sync(Syncer.Options.DEFAULT);
        write(src, "d2/f6.bin", "CONTENT 6");

        SyncReport report = sync(Syncer.Options.DEFAULT);

        assertThat(report.copied().objects()).isEqualTo(1);
        assertThat(Files.readString(dst.resolve("d2/f6.bin"))).isEqualTo("CONTENT 6");
    }

    @Test
    void a_file_changed_within_the_same_tick_of_a_coarse_clock_is_still_found() throws Exception {
        Path file = src.resolve("d2/f6.bin");
        Path old = src.resolve("d3/f7.bin");
        FileTime tick = Files.getLastModifiedTime(file); // written by setUp a moment ago
        FileTime hourAgo = FileTime.from(Instant.now().minusSeconds(3600));
        Files.setLastModifiedTime(old, hourAgo);
        sync(Syncer.Options.DEFAULT);

        // Replaced by as many bytes, keeping its time (as on an NFS server that keeps whole seconds).
        write(src, "d2/f6.bin", "CONTENT 6");
        Files.setLastModifiedTime(file, tick);
        reads.takeOpened();
        SyncReport report = sync(Syncer.Options.DEFAULT);

        // The file synced moments after its change is compared by checksum, so the change is found.
        assertThat(report.copied().objects()).isEqualTo(1);
        assertThat(Files.readString(dst.resolve("d2/f6.bin"))).isEqualTo("CONTENT 6");
        // A file unchanged for long is trusted to the recorded state: that is what keeps a re-sync from reading.
        assertThat(reads.takeOpened()).extracting(Location::toPath).contains(file)
                .doesNotContain(old, dst.resolve("d3/f7.bin"));
    }

    @Test
    void a_file_rewritten_with_its_old_time_put_back_is_still_found() throws Exception {
        ageSources();
        sync(Syncer.Options.DEFAULT);

        // New bytes, the old size and time: what 'cp -p', 'rsync -t', 'touch -r' or unpacking an archive leave.
        rewriteKeepingTime(src, "d2/f6.bin", "CONTENT 6");
        SyncReport report = sync(Syncer.Options.DEFAULT);

        assertThat(report.copied().objects()).isEqualTo(1);
        assertThat(Files.readString(dst.resolve("d2/f6.bin"))).isEqualTo("CONTENT 6");
        assertThat(sync(Syncer.Options.DEFAULT).copied().objects()).isZero();
    }

    @Test
    void a_second_sync_of_files_unchanged_for_long_reads_no_data() throws Exception {
        ageSources();
        sync(Syncer.Options.DEFAULT);
        reads.takeOpened();

        SyncReport report = sync(Syncer.Options.DEFAULT);

        assertThat(report.skipped().objects()).isEqualTo(30);
        assertThat(reads.takeOpened()).isEmpty();
    }

    @Test
    void a_destination_file_changed_with_its_size_and_time_put_back_is_repaired() throws Exception {
        ageSources();
        sync(Syncer.Options.DEFAULT);

        // Changed behind Ferry's back, keeping the size and time it recorded: its change time still tells.
        rewriteKeepingTime(dst, "d3/f7.bin", "BADBAD 7!");
        SyncReport report = sync(Syncer.Options.DEFAULT);

        assertThat(report.copied().objects()).isEqualTo(1);
        assertThat(Files.readString(dst.resolve("d3/f7.bin"))).isEqualTo("content 7");
        reads.takeOpened();
        assertThat(sync(Syncer.Options.DEFAULT).skipped().objects()).isEqualTo(30);
        assertThat(reads.takeOpened()).as("the repaired copy's state is recorded again").isEmpty();
    }

    @Test
    void a_destination_file_changed_with_its_size_and_time_put_back_is_repaired_from_an_object_store()
            throws Exception {
        MemoryStore memory = new MemoryStore();
        for (int i = 0; i < 5; i++) {
            memory.put(Location.of("s3://bucket/src/k" + i), ("object " + i).getBytes());
        }
        stores.with("s3", memory);
        Location bucket = Location.of("s3://bucket/src/");
        syncer.sync(bucket, Location.of(dst), Syncer.Options.DEFAULT, TransferListener.NONE);

        rewriteKeepingTime(dst, "k3", "OBJECT 3");
        SyncReport report = syncer.sync(bucket, Location.of(dst), Syncer.Options.DEFAULT, TransferListener.NONE);

        assertThat(report.copied().objects()).isEqualTo(1);
        assertThat(Files.readString(dst.resolve("k3"))).isEqualTo("object 3");
        reads.takeOpened();
        assertThat(syncer.sync(bucket, Location.of(dst), Syncer.Options.DEFAULT, TransferListener.NONE)
                .skipped().objects()).isEqualTo(5);
        assertThat(reads.takeOpened()).isEmpty();
    }

    @Test
    void a_source_holding_both_a_key_and_keys_below_it_is_named_as_the_cause_of_the_failed_copy() throws Exception {
        MemoryStore memory = new MemoryStore();
        memory.put(Location.of("s3://bucket/src/a"), "file a".getBytes());
        memory.put(Location.of("s3://bucket/src/a/b"), "file a/b".getBytes());
        memory.put(Location.of("s3://bucket/src/c"), "file c".getBytes());
        stores.with("s3", memory);

        for (boolean delete : new boolean[] {false, true}) {
            SyncReport report = syncer.sync(Location.of("s3://bucket/src/"), Location.of(dst),
                    options(delete, false, Filter.ALL), TransferListener.NONE);

            // One of a and a/b is written, whichever came first; the other cannot be, and removing it would not help.
            assertThat(report.failures()).hasSize(1);
            assertThat(report.failures().getFirst().reason()).contains("the source has both a and keys below a/")
                    .contains("--exclude").doesNotContain("remove it");
            assertThat(Files.readString(dst.resolve("c"))).isEqualTo("file c");
        }
    }

    @Test
    void recorded_checksums_vouch_only_for_a_destination_file_as_the_sync_left_it() throws Exception {
        ageSources();
        sync(Syncer.Options.DEFAULT);
        var known = syncer.recordedChecksums(Location.of(src), Location.of(dst));
        Location copy = Location.of(dst.resolve("d3/f7.bin"));

        assertThat(known.apply("d3/f7.bin", reads.stat(copy))).isEqualTo(Crc32c.of("content 7".getBytes()));
        rewriteKeepingTime(dst, "d3/f7.bin", "BADBAD 7!");
        assertThat(known.apply("d3/f7.bin", reads.stat(copy))).isNull();
    }

    @Test
    void without_recorded_state_equal_objects_are_recognized_by_checksum() throws Exception {
        sync(Syncer.Options.DEFAULT);
        // Forget the recorded state, and touch every source file: only checksums can tell them unchanged now.
        deleteTree(folder.resolve("state"));
        for (String key : files(src)) {
            Files.setLastModifiedTime(src.resolve(key), FileTime.from(Instant.now().plusSeconds(60)));
        }
        SyncReport report = sync(Syncer.Options.DEFAULT);
        assertThat(report.copied().objects()).isZero();
        assertThat(report.skipped().objects()).isEqualTo(30);
    }

    @Test
    void size_only_and_size_mtime_are_cheaper_and_weaker() throws Exception {
        sync(Syncer.Options.DEFAULT);
        write(src, "d2/f6.bin", "CONTENT 6"); // same size, newer
        var sizeOnly = new Syncer.Options(8, Syncer.Compare.SIZE_ONLY, false, false, Filter.ALL, 0, false, false);
        assertThat(sync(sizeOnly).copied().objects()).isZero();

        Files.setLastModifiedTime(src.resolve("d2/f6.bin"), FileTime.from(Instant.now().plusSeconds(60)));
        var sizeMtime = new Syncer.Options(8, Syncer.Compare.SIZE_MTIME, false, false, Filter.ALL, 0, false, false);
        assertThat(sync(sizeMtime).copied().objects()).isEqualTo(1);
    }

    @Test
    void delete_removes_what_the_source_no_longer_has_and_only_when_asked() throws Exception {
        sync(Syncer.Options.DEFAULT);
        Files.delete(src.resolve("d0/f0.bin"));

        assertThat(sync(Syncer.Options.DEFAULT).deleted().objects()).isZero();
        assertThat(dst.resolve("d0/f0.bin")).exists();

        SyncReport report = sync(options(true, false, Filter.ALL));
        assertThat(report.deleted().objects()).isEqualTo(1);
        assertThat(dst.resolve("d0/f0.bin")).doesNotExist();
        assertThat(files(dst)).isEqualTo(files(src));
    }

    @Test
    void delete_removes_the_folders_it_empties_at_a_local_destination() throws Exception {
        write(src, "deep/er/still/c.bin", "c");
        sync(Syncer.Options.DEFAULT);
        deleteTree(src.resolve("d0"));
        deleteTree(src.resolve("deep"));
        Files.delete(src.resolve("d1/f1.bin"));

        SyncReport report = sync(options(true, false, Filter.ALL));

        assertThat(report.deleted().objects()).isEqualTo(1 + 8 + 1);
        // A folder the source no longer has is gone, as a reader listing folders (an image-folder dataset whose
        // folders are its classes) must not find an empty one; a folder still holding files stays.
        assertThat(dst.resolve("d0")).doesNotExist();
        assertThat(dst.resolve("deep")).doesNotExist();
        assertThat(dst.resolve("d1")).isDirectory();
        assertThat(dst).isDirectory();
        try (Stream<Path> folders = Files.walk(dst)) {
            assertThat(folders.filter(Files::isDirectory).map(p -> dst.relativize(p).toString()).sorted())
                    .containsExactly("", "d1", "d2", "d3");
        }
    }

    @Test
    void a_run_with_a_failed_transfer_deletes_nothing() throws Exception {
        sync(Syncer.Options.DEFAULT);
        write(dst, "only-in-destination.bin", "x");
        write(src, "blocked", "will fail");
        // A folder where a file must go, holding a file the deletes leave alone (excluded): it stays in the way.
        write(dst, "blocked/kept.tmp", "x");
        Filter noTmp = new Filter(List.of(), List.of("*.tmp"), 0, Long.MAX_VALUE, null);

        SyncReport report = sync(options(true, false, noTmp));

        assertThat(report.failures()).extracting(Failure::key).containsExactly("blocked");
        assertThat(report.failures().getFirst().reason()).contains("--delete does not remove it");
        assertThat(report.deleted().objects()).isZero();
        assertThat(report.deletesWithheld()).isEqualTo(1);
        assertThat(dst.resolve("only-in-destination.bin")).exists();
    }

    @Test
    void dry_run_plans_and_changes_nothing() throws Exception {
        sync(Syncer.Options.DEFAULT);
        write(src, "new.bin", "new");
        write(src, "d1/f1.bin", "changed size now");
        write(dst, "extra.bin", "extra");
        List<String> before = files(dst);

        SyncReport report = sync(options(true, true, Filter.ALL));

        assertThat(report.dryRun()).isTrue();
        assertThat(report.plan()).extracting(a -> a.key() + ":" + a.action())
                .containsExactly("d1/f1.bin:update", "extra.bin:delete", "new.bin:copy");
        assertThat(files(dst)).isEqualTo(before);
    }

    @Test
    void filters_limit_what_is_copied_and_excluded_destination_objects_are_never_deleted() throws Exception {
        write(src, "scratch.tmp", "temporary");
        write(dst, "keep.tmp", "destination's own");
        Filter noTmp = new Filter(List.of(), List.of("*.tmp"), 0, Long.MAX_VALUE, null);

        SyncReport report = sync(options(true, false, noTmp));

        assertThat(report.copied().objects()).isEqualTo(30);
        assertThat(dst.resolve("scratch.tmp")).doesNotExist();
        assertThat(dst.resolve("keep.tmp")).exists();
    }

    @Test
    void a_filtered_run_keeps_what_was_recorded_for_the_objects_it_leaves_out() throws Exception {
        ageSources();
        sync(Syncer.Options.DEFAULT);
        for (Filter filter : List.of(new Filter(List.of(), List.of("d0/**"), 0, Long.MAX_VALUE, null),
                new Filter(List.of("*.bin"), List.of(), 1L << 30, Long.MAX_VALUE, null))) {
            sync(options(false, false, filter));
            reads.takeOpened();

            SyncReport unfiltered = sync(Syncer.Options.DEFAULT);

            assertThat(unfiltered.skipped().objects()).as(filter.describe()).isEqualTo(30);
            assertThat(reads.takeOpened()).as("%s: the objects it left out are known unchanged", filter.describe())
                    .isEmpty();
        }
    }

    @Test
    void an_exclude_anchored_with_a_leading_slash_keeps_the_destination_folder_it_names() throws Exception {
        write(src, "logs/source.log", "left out");
        write(dst, "logs/destination-own.log", "kept, as rsync and rclone keep it");
        Filter noLogs = new Filter(List.of(), List.of("/logs/**"), 0, Long.MAX_VALUE, null);

        SyncReport report = sync(options(true, false, noLogs));

        assertThat(report.succeeded()).isTrue();
        assertThat(report.deleted().objects()).isZero();
        assertThat(dst.resolve("logs/destination-own.log")).exists();
        assertThat(dst.resolve("logs/source.log")).doesNotExist();
    }

    @Test
    void delete_keeps_what_the_source_has_outside_the_size_and_age_bounds() throws Exception {
        sync(Syncer.Options.DEFAULT);
        Instant now = Instant.now();
        FileTime old = FileTime.from(now.minusSeconds(30 * 86_400));
        try (Stream<Path> files = Files.walk(src)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                Files.setLastModifiedTime(file, old); // the sources age; their copies keep the time they were made
            }
        }
        write(src, "fresh.bin", "new today");
        write(src, "d0/f0.bin", "content 0, now grown past the size bound");
        write(dst, "gone.bin", "the source no longer has it");
        Filter bounded = new Filter(List.of(), List.of(), 0, 12, now.minusSeconds(7 * 86_400));

        SyncReport report = sync(options(true, false, bounded));

        assertThat(report.succeeded()).isTrue();
        assertThat(report.copied().objects()).as("only the fresh, small file").isEqualTo(1);
        assertThat(report.deleted().objects()).as("only what the source lacks").isEqualTo(1);
        assertThat(dst.resolve("gone.bin")).doesNotExist();
        assertThat(Files.readString(dst.resolve("fresh.bin"))).isEqualTo("new today");
        assertThat(Files.readString(dst.resolve("d0/f0.bin"))).isEqualTo("content 0");
        assertThat(files(dst)).isEqualTo(files(src));
    }

    /** Filters that each take none of the source's 30 objects, with how a refusal names them. */
    private static final Map<Filter, String> TAKING_NOTHING = Map.of(
            new Filter(List.of("*.nomatch"), List.of(), 0, Long.MAX_VALUE, null), "--include '*.nomatch'",
            new Filter(List.of(), List.of("d*/**"), 0, Long.MAX_VALUE, null), "--exclude 'd*/**'",
            new Filter(List.of(), List.of(), 1L << 30, Long.MAX_VALUE, null), "--min-size 1073741824",
            new Filter(List.of("*.bin"), List.of(), 0, Long.MAX_VALUE, Instant.parse("2099-01-01T00:00:00Z")),
            "--newer-than 2099-01-01T00:00:00Z");

    @Test
    void filters_that_take_nothing_copy_nothing_and_the_run_succeeds() throws Exception {
        sync(Syncer.Options.DEFAULT);
        write(src, "d0/f0.bin", "changed, and left out");
        write(dst, "extra.bin", "the destination's own");
        List<String> before = files(dst);

        for (Filter filter : TAKING_NOTHING.keySet()) {
            SyncReport report = sync(options(false, false, filter));

            assertThat(report.succeeded()).as(TAKING_NOTHING.get(filter)).isTrue();
            assertThat(report.copied().objects()).isZero();
            assertThat(report.leftOut()).as(TAKING_NOTHING.get(filter)).isEqualTo(30);
        }
        assertThat(files(dst)).isEqualTo(before);
        assertThat(Files.readString(dst.resolve("d0/f0.bin"))).isEqualTo("content 0");
    }

    @Test
    void delete_is_refused_naming_the_filters_when_they_take_nothing() throws Exception {
        sync(Syncer.Options.DEFAULT);
        write(dst, "extra.bin", "the destination's own");
        write(dst, "extra.nomatch", "matches the include, and the source lacks it");
        List<String> before = files(dst);

        for (Filter filter : TAKING_NOTHING.keySet()) {
            for (boolean dryRun : new boolean[] {true, false}) {
                assertThatThrownBy(() -> sync(options(true, dryRun, filter)))
                        .as("%s, dry run: %s", TAKING_NOTHING.get(filter), dryRun)
                        .hasMessageContaining(TAKING_NOTHING.get(filter))
                        .hasMessageContaining("take none of")
                        .hasMessageContaining("--delete");
            }
        }
        assertThat(files(dst)).isEqualTo(before);
    }

    @Test
    void an_empty_source_folder_is_refused_as_having_no_objects() throws Exception {
        Path empty = Files.createDirectories(folder.resolve("empty"));
        Files.createDirectories(dst);

        for (Syncer.Options options : List.of(Syncer.Options.DEFAULT, options(true, false, Filter.ALL))) {
            assertThatThrownBy(() -> syncer.sync(Location.of(empty), Location.of(dst), options,
                            TransferListener.NONE))
                    .isInstanceOf(ObjectNotFoundException.class)
                    .hasMessageContaining(empty.toString())
                    .hasMessageContaining("has no objects");
        }
    }

    @Test
    void delete_removes_keys_with_backslashes_and_line_breaks_exactly() throws Exception {
        sync(Syncer.Options.DEFAULT);
        List<String> strays = List.of("old\\new.bin", "a\\\\b.bin", "line\nbreak.bin", "cr\rhere.bin", "tail\\");
        for (String stray : strays) {
            write(dst, stray, "stray");
        }
        write(dst, "old\nnew.bin", "a neighbour the backslash key must not be mistaken for");
        write(src, "old\nnew.bin", "a neighbour the backslash key must not be mistaken for");

        SyncReport report = sync(options(true, false, Filter.ALL));

        assertThat(report.failures()).isEmpty();
        assertThat(report.deleted().objects()).isEqualTo(strays.size());
        assertThat(files(dst)).isEqualTo(files(src));
    }

    @Test
    void ferry_records_in_either_tree_are_neither_copied_nor_deleted() throws Exception {
        write(src, ".ferry/probe/p1", "a probe of the source's store");
        write(dst, ".ferry/datasets/d/v1.json", "a manifest of the destination's store");
        write(dst, "deep/.ferry/datasets/e/v1.json", "another store's, deeper down");

        SyncReport report = sync(options(true, false, Filter.ALL));

        assertThat(report.copied().objects()).isEqualTo(30);
        assertThat(report.deleted().objects()).isZero();
        assertThat(dst.resolve(".ferry/probe/p1")).doesNotExist();
        assertThat(dst.resolve(".ferry/datasets/d/v1.json")).exists();
        assertThat(dst.resolve("deep/.ferry/datasets/e/v1.json")).exists();
    }

    @Test
    void a_second_run_of_the_same_sync_is_refused_naming_the_first() throws Exception {
        Path lockFile = syncer.stateFolder(Location.of(src), Location.of(dst)).resolve("lock");
        try (ProcessLock held = ProcessLock.acquire(lockFile, "pid 4242, the first run",
                java.io.IOException::new)) {
            assertThatThrownBy(() -> sync(Syncer.Options.DEFAULT))
                    .isInstanceOf(SyncBusyException.class)
                    .hasMessageContaining("pid 4242, the first run");
        }
        assertThat(sync(Syncer.Options.DEFAULT).succeeded()).isTrue();
    }

    @Test
    void a_crashed_run_resumes_from_its_journal_without_resending() throws Exception {
        ageSources(); // files changed moments before a run are compared by checksum in the next
        sync(Syncer.Options.DEFAULT);
        // What a run killed half way leaves: files copied, journaled, but no new state. Simulate by dropping the
        // state and turning its entries into a journal.
        Path state = syncer.stateFolder(Location.of(src), Location.of(dst));
        Files.move(state.resolve("state.tsv"), state.resolve("journal.tsv"));
        reads.takeOpened();

        SyncReport report = sync(Syncer.Options.DEFAULT);

        assertThat(report.copied().objects()).isZero();
        assertThat(report.skipped().objects()).isEqualTo(30);
        // Only a run that trusts the journal reads nothing: without it, each file would be read at both ends.
        assertThat(reads.takeOpened()).isEmpty();
        assertThat(state.resolve("journal.tsv")).doesNotExist();
        assertThat(state.resolve("state.tsv")).exists();
    }

    @Test
    void missing_source_and_unwritable_destination_are_named() throws Exception {
        assertThatThrownBy(() -> syncer.sync(Location.of(folder.resolve("nope")), Location.of(dst),
                        Syncer.Options.DEFAULT, TransferListener.NONE))
                .isInstanceOf(ObjectNotFoundException.class)
                .hasMessageContaining("nope")
                .hasMessageContaining("does not exist");

        Path file = folder.resolve("a-file");
        Files.writeString(file, "x");
        assertThatThrownBy(() -> syncer.sync(Location.of(src), Location.of(file.resolve("sub")),
                        Syncer.Options.DEFAULT, TransferListener.NONE))
                .hasMessageContaining("a-file/sub")
                .hasMessageContaining("cannot be created");
    }

    @Test
    void a_destination_on_a_read_only_file_system_is_refused_saying_so() throws Exception {
        write(src, "a.bin", "a");
        Path readOnly = folder.resolve("read-only");
        Files.createDirectories(readOnly);
        Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", readOnly.toString())
                .redirectErrorStream(true).start();
        String output = new String(mount.getInputStream().readAllBytes());
        assertThat(mount.waitFor()).as("mount a read-only tmpfs (needs root): %s", output).isZero();
        try {
            assertThatThrownBy(() -> syncer.sync(Location.of(src), Location.of(readOnly), Syncer.Options.DEFAULT,
                    TransferListener.NONE))
                    .hasMessageContaining("read-only")
                    .hasMessageContaining("is not writable: its file system is mounted read-only");
        } finally {
            new ProcessBuilder("umount", readOnly.toString()).inheritIO().start().waitFor();
        }
    }

    @Test
    void a_destination_inside_the_source_or_around_it_is_refused_and_nothing_is_touched() throws Exception {
        List<String> before = files(src);
        Syncer.Options delete = options(true, false, Filter.ALL);
        // Into its own parent, with --delete: the files of d1..d3 (the source's neighbours) and then the source's
        // own would be deleted as "not in the source".
        assertThatThrownBy(() -> syncer.sync(Location.of(src.resolve("d0")), Location.of(src), delete,
                        TransferListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(src.resolve("d0").toString())
                .hasMessageContaining("overlap");
        // Into its own sub-folder: each run would copy the copies again, one level deeper.
        assertThatThrownBy(() -> syncer.sync(Location.of(src), Location.of(src.resolve("backup")), delete,
                        TransferListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("overlap");
        // The same folder under another name (a symbolic link) is the same folder.
        Path alias = Files.createSymbolicLink(folder.resolve("alias"), src);
        assertThatThrownBy(() -> syncer.sync(Location.of(src), Location.of(alias.resolve("d1")), delete,
                        TransferListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("overlap");
        assertThat(files(src)).isEqualTo(before);

        MemoryStore memory = new MemoryStore();
        memory.put(Location.of("s3://bucket/data/a.bin"), "a".getBytes());
        stores.with("s3", memory);
        assertThatThrownBy(() -> syncer.sync(Location.of("s3://bucket/data/"), Location.of("s3://bucket/"), delete,
                        TransferListener.NONE))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("overlap");
        // Prefixes that only share a start are apart: data/ and data-copy/.
        assertThat(syncer.sync(Location.of("s3://bucket/data"), Location.of("s3://bucket/data-copy"), delete,
                TransferListener.NONE).copied().objects()).isEqualTo(1);
        assertThat(syncer.sync(Location.of(src), Location.of(folder.resolve("src-copy")), delete,
                TransferListener.NONE).copied().objects()).isEqualTo(30);
    }

    @Test
    void a_file_given_as_source_or_destination_is_named_as_a_file() throws Exception {
        Path file = folder.resolve("a-file");
        Files.writeString(file, "x");

        assertThatThrownBy(() -> syncer.sync(Location.of(file), Location.of(dst), Syncer.Options.DEFAULT,
                        TransferListener.NONE))
                .hasMessageContaining(file.toString())
                .hasMessageContaining("is a file, not a folder")
                .hasMessageContaining("ferry cp");
        assertThatThrownBy(() -> syncer.sync(Location.of(src), Location.of(file), Syncer.Options.DEFAULT,
                        TransferListener.NONE))
                .hasMessageContaining(file.toString())
                .hasMessageContaining("is a file, not a folder");
        assertThatThrownBy(() -> syncer.sync(Location.of(src), Location.of(file.resolve("below/deeper")),
                        Syncer.Options.DEFAULT, TransferListener.NONE))
                .isInstanceOf(ferry.store.StoreException.class)
                .hasMessageContaining(file + " is a file, not a folder");
        assertThat(Files.readString(file)).isEqualTo("x");
        assertThat(dst).doesNotExist();
    }

    @Test
    void a_file_that_became_a_folder_and_a_folder_that_became_a_file_are_replaced_with_delete() throws Exception {
        write(src, "x", "a file");
        write(src, "y/a", "in a folder");
        write(src, "x-neighbour", "sorts between x and x/");
        sync(options(true, false, Filter.ALL));
        Files.delete(src.resolve("x"));
        write(src, "x/1", "now a folder");
        Files.delete(src.resolve("y/a"));
        Files.delete(src.resolve("y"));
        write(src, "y", "now a file");

        // A dry run foresees both: without --delete the same failures, with it the copies after the deletes.
        SyncReport foreseen = sync(options(false, true, Filter.ALL));
        assertThat(foreseen.failures()).extracting(Failure::key).containsExactly("x/1", "y");
        assertThat(foreseen.failures()).allSatisfy(f -> assertThat(f.reason()).contains("in the way"));
        SyncReport planned = sync(options(true, true, Filter.ALL));
        assertThat(planned.failures()).isEmpty();
        assertThat(planned.plan()).extracting(SyncReport.Action::key, SyncReport.Action::action)
                .containsExactlyInAnyOrder(tuple("x", "delete"), tuple("y/a", "delete"), tuple("x/1", "copy"),
                        tuple("y", "copy"));
        assertThat(Files.readString(dst.resolve("x"))).isEqualTo("a file");

        // Without --delete the old entries stay, and the failures say why and what to do.
        SyncReport kept = sync(options(false, false, Filter.ALL));
        assertThat(kept.failures()).extracting(Failure::key).containsExactly("x/1", "y");
        assertThat(kept.failures()).allSatisfy(f -> assertThat(f.reason()).contains("--delete"));
        assertThat(Files.readString(dst.resolve("x"))).isEqualTo("a file");
        assertThat(Files.readString(dst.resolve("y/a"))).isEqualTo("in a folder");

        SyncReport replaced = sync(options(true, false, Filter.ALL));

        assertThat(replaced.failures()).isEmpty();
        assertThat(replaced.deleted().objects()).isEqualTo(2);
        assertThat(Files.readString(dst.resolve("x/1"))).isEqualTo("now a folder");
        assertThat(Files.readString(dst.resolve("y"))).isEqualTo("now a file");
        assertThat(files(dst)).isEqualTo(files(src));
        assertThat(sync(options(true, false, Filter.ALL)).copied().objects()).isZero();
    }

    @Test
    void what_the_source_passes_over_is_reported_and_with_delete_what_the_destination_has_there_is_kept()
            throws Exception {
        sync(Syncer.Options.DEFAULT);
        write(dst, "linked/model.bin", "synced when linked/ was a folder");
        write(dst, "pipe", "synced when pipe was a file");
        write(dst, "stale.bin", "the source lacks it");
        Path elsewhere = folder.resolve("elsewhere");
        write(elsewhere, "model.bin", "behind the link");
        Files.createSymbolicLink(src.resolve("linked"), elsewhere);
        assertThat(new ProcessBuilder("mkfifo", src.resolve("pipe").toString()).start().waitFor()).isZero();

        SyncReport planned = sync(options(true, true, Filter.ALL));
        SyncReport ran = sync(options(true, false, Filter.ALL));

        for (SyncReport report : List.of(planned, ran)) {
            assertThat(report.succeeded()).isTrue();
            assertThat(report.passedOver()).extracting(PassedOver::key).containsExactly("linked", "pipe");
        }
        assertThat(planned.plan()).extracting(SyncReport.Action::key).containsExactly("stale.bin");
        assertThat(ran.deleted().objects()).isEqualTo(1);
        assertThat(Files.readString(dst.resolve("linked/model.bin"))).isEqualTo("synced when linked/ was a folder");
        assertThat(Files.readString(dst.resolve("pipe"))).isEqualTo("synced when pipe was a file");
        assertThat(dst.resolve("stale.bin")).doesNotExist();
    }

    @Test
    void a_symbolic_link_out_of_a_local_destination_fails_its_keys_alike_in_a_dry_run_and_with_delete()
            throws Exception {
        MemoryStore memory = new MemoryStore();
        memory.put(Location.of("s3://bucket/src/top.bin"), "top".getBytes());
        memory.put(Location.of("s3://bucket/src/sub/a.bin"), "a".getBytes());
        memory.put(Location.of("s3://bucket/src/sub/b.bin"), "b".getBytes());
        stores.with("s3", memory);
        Location bucket = Location.of("s3://bucket/src/");
        Path outside = folder.resolve("outside");
        write(outside, "a.bin", "outside's own");
        Files.createDirectories(dst);
        Path link = Files.createSymbolicLink(dst.resolve("sub"), outside);

        for (boolean delete : new boolean[] {false, true}) {
            SyncReport planned = syncer.sync(bucket, Location.of(dst), options(delete, true, Filter.ALL),
                    TransferListener.NONE);
            SyncReport ran = syncer.sync(bucket, Location.of(dst), options(delete, false, Filter.ALL),
                    TransferListener.NONE);

            assertThat(ran.failures()).as("delete: %s", delete).extracting(Failure::key)
                    .containsExactly("sub/a.bin", "sub/b.bin");
            assertThat(ran.failures()).allSatisfy(f -> assertThat(f.reason())
                    .contains("symbolic link", outside.toString(), "remove the link").doesNotContain("--delete"));
            assertThat(planned.failures()).as("the dry run foresees the run's failures").isEqualTo(ran.failures());
            assertThat(planned.plan()).extracting(SyncReport.Action::key).doesNotContain("sub/a.bin", "sub/b.bin");
        }
        assertThat(Files.readString(dst.resolve("top.bin"))).isEqualTo("top");
        assertThat(link).isSymbolicLink();
        assertThat(files(outside)).containsExactly("a.bin");
        assertThat(Files.readString(outside.resolve("a.bin"))).isEqualTo("outside's own");
    }

    @Test
    void a_symbolic_link_to_elsewhere_in_the_destination_is_not_written_through_nor_its_target_deleted()
            throws Exception {
        write(src, "sub/a.bin", "a");
        write(dst, "other/kept.bin", "the destination's own");
        Path link = Files.createSymbolicLink(dst.resolve("sub"), dst.resolve("other"));

        for (boolean delete : new boolean[] {false, true}) {
            SyncReport planned = sync(options(delete, true, Filter.ALL));
            SyncReport ran = sync(options(delete, false, Filter.ALL));

            assertThat(ran.failures()).as("delete: %s", delete).extracting(Failure::key).containsExactly("sub/a.bin");
            assertThat(ran.failures().getFirst().reason()).contains("symbolic link", "remove the link");
            assertThat(planned.failures()).isEqualTo(ran.failures());
        }
        assertThat(link).isSymbolicLink();
        assertThat(files(dst.resolve("other"))).as("nothing written through the link, nothing deleted")
                .containsExactly("kept.bin");
    }

    @Test
    void a_dangling_symbolic_link_in_the_way_fails_alike_in_a_dry_run_and_with_delete() throws Exception {
        write(src, "gone/c.bin", "c");
        Files.createDirectories(dst);
        Path nowhere = folder.resolve("nowhere");
        Path link = Files.createSymbolicLink(dst.resolve("gone"), nowhere);

        for (boolean delete : new boolean[] {false, true}) {
            SyncReport planned = sync(options(delete, true, Filter.ALL));
            SyncReport ran = sync(options(delete, false, Filter.ALL));

            // The deletes remove only what the listing gives, and it gives no dangling link: --delete cannot help.
            for (SyncReport report : List.of(planned, ran)) {
                assertThat(report.failures()).as("delete: %s", delete).extracting(Failure::key)
                        .containsExactly("gone/c.bin");
                assertThat(report.failures().getFirst().reason()).contains("--delete does not remove it")
                        .doesNotContain("run with --delete");
            }
        }
        assertThat(link).isSymbolicLink();
        assertThat(nowhere).doesNotExist();
    }

    @Test
    void a_folder_reached_by_another_name_shares_its_recorded_state() throws Exception {
        ageSources();
        sync(Syncer.Options.DEFAULT);
        Path alias = Files.createSymbolicLink(folder.resolve("alias"), src);
        reads.takeOpened();

        SyncReport report = syncer.sync(Location.of(alias), Location.of(dst), Syncer.Options.DEFAULT,
                TransferListener.NONE);

        assertThat(report.copied().objects()).isZero();
        assertThat(report.skipped().objects()).isEqualTo(30);
        // Only a run that trusts the recorded state reads nothing: without state it compares checksums.
        assertThat(reads.takeOpened()).isEmpty();
        assertThat(syncer.stateFolder(Location.of(alias), Location.of(dst)))
                .isEqualTo(syncer.stateFolder(Location.of(src), Location.of(dst)));
    }

    @Test
    void one_slow_early_transfer_holds_back_the_listing_instead_of_every_later_result() throws Exception {
        MemoryStore memory = new MemoryStore();
        for (int i = 0; i < 200; i++) {
            memory.put(Location.of(String.format("s3://bucket/k%03d", i)), ("object " + i).getBytes());
        }
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger opened = new AtomicInteger();
        memory.beforeRead(location -> {
            opened.incrementAndGet();
            if (location.name().equals("k000")) {
                release.await();
            }
        });
        stores.with("s3", memory);
        Syncer small = new Syncer(stores, folder.resolve("state"), Clock.systemUTC(), Ticker.SYSTEM, 10);
        Thread run = Thread.ofVirtual().start(() -> {
            try {
                small.sync(Location.of("s3://bucket/"), Location.of(dst), options(false, false, Filter.ALL),
                        TransferListener.NONE);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        });

        // k000's copy is held; the listing goes on only while fewer than 10 results wait for it.
        while (opened.get() < 10) {
            Thread.sleep(10);
        }
        Thread.sleep(300); // time enough to open all 200, had nothing held the listing back
        assertThat(opened.get()).isEqualTo(10);

        release.countDown();
        run.join();
        assertThat(files(dst)).hasSize(200);
        SyncReport again = small.sync(Location.of("s3://bucket/"), Location.of(dst), Syncer.Options.DEFAULT,
                TransferListener.NONE);
        assertThat(again.copied().objects()).isZero(); // every result reached the recorded state, in order
        assertThat(again.skipped().objects()).isEqualTo(200);
    }

    @Test
    void the_bandwidth_limit_paces_the_whole_run() throws Exception {
        long[] now = {0};
        long[] slept = {0};
        Ticker manual = new Ticker() {
            @Override
            public long nanoTime() {
                return now[0];
            }

            @Override
            public synchronized void sleepNanos(long nanos) {
                slept[0] += nanos;
                now[0] = Math.max(now[0], now[0] + nanos);
            }
        };
        write(src, "big.bin", "x".repeat(1_000_000));
        Syncer paced = new Syncer(stores, folder.resolve("state"), Clock.systemUTC(), manual);
        var options = new Syncer.Options(1, Syncer.Compare.CHECKSUM, false, false, Filter.ALL, 500_000, false, false);

        SyncReport report = paced.sync(Location.of(src), Location.of(dst), options, TransferListener.NONE);

        double seconds = now[0] / 1e9;
        assertThat(report.copied().bytes() / seconds).isBetween(450_000.0, 550_000.0);
    }

    private static void deleteTree(Path root) throws Exception {
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
