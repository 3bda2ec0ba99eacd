package ferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.store.Location;
import ferry.store.Stores;
import ferry.testing.S3TestServer;
import ferry.time.Ticker;
import ferry.transfer.Filter;
import ferry.transfer.SyncReport;
import ferry.transfer.Syncer;
import ferry.transfer.TransferListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --bwlimit} paces every byte a sync reads from an object store, not only its copies: the checksum reads that
 * compare objects already at both ends, and the read-backs of what it wrote. Time is a manual clock that advances
 * only when the limiter waits, so the figures are exact whatever the machine's speed.
 */
class SyncPacingIT {
    private static final int OBJECTS = 4;
    private static final int SIZE = 256 * 1024;
    private static final long RATE = 1_000_000;

    @TempDir
    Path folder;

    /** A clock that moves only when something sleeps on it. */
    private static final class ManualTicker implements Ticker {
        long now;

        @Override
        public synchronized long nanoTime() {
            return now;
        }

        @Override
        public synchronized void sleepNanos(long nanos) {
            now += Math.max(0, nanos);
        }

        synchronized double seconds() {
            return now / 1e9;
        }
    }

    private Path data(String name) throws Exception {
        Path root = folder.resolve(name);
        Random random = new Random(5);
        for (int i = 0; i < OBJECTS; i++) {
            byte[] bytes = new byte[SIZE];
            random.nextBytes(bytes);
            Files.createDirectories(root);
            Files.write(root.resolve(i + ".bin"), bytes);
        }
        return root;
    }

    private static Syncer.Options paced(boolean readBack) {
        return new Syncer.Options(4, Syncer.Compare.CHECKSUM, false, false, Filter.ALL, RATE, readBack, false);
    }

    @Test
    void read_backs_of_written_objects_are_paced_with_the_copies() throws Exception {
        Path src = data("src");
        try (S3TestServer server = S3TestServer.newServer();
                Stores stores = Stores.fromEnvironment(server.environment())) {
            server.createBucket("pace");
            ManualTicker ticker = new ManualTicker();
            Syncer syncer = new Syncer(stores, folder.resolve("state"), Clock.systemUTC(), ticker);

            SyncReport report = syncer.sync(Location.of(src), Location.of("s3://pace/d/"), paced(true),
                    TransferListener.NONE);

            assertThat(report.failures()).isEmpty();
            assertThat(report.copied().objects()).isEqualTo(OBJECTS);
            double once = (double) OBJECTS * SIZE / RATE;
            assertThat(ticker.seconds()).as("the copies and their read-backs, each at the rate")
                    .isGreaterThan(1.8 * once).isLessThan(2.2 * once);
        }
    }

    @Test
    void checksum_reads_of_objects_at_both_ends_are_paced() throws Exception {
        Path src = data("src");
        Path dst = data("dst"); // the same bytes, but no state of an earlier sync: each pair is read to compare
        try (S3TestServer server = S3TestServer.newServer();
                Stores stores = Stores.fromEnvironment(server.environment())) {
            server.createBucket("pace");
            // Objects another tool put there, without the CRC32C Ferry records: only a read tells whether they match.
            for (int i = 0; i < OBJECTS; i++) {
                server.putObject("pace", "d/" + i + ".bin", Files.readAllBytes(src.resolve(i + ".bin")));
            }
            ManualTicker ticker = new ManualTicker();
            Syncer syncer = new Syncer(stores, folder.resolve("state"), Clock.systemUTC(), ticker);

            SyncReport report = syncer.sync(Location.of("s3://pace/d/"), Location.of(dst), paced(false),
                    TransferListener.NONE);

            assertThat(report.failures()).isEmpty();
            assertThat(report.skipped().objects()).isEqualTo(OBJECTS);
            assertThat(report.copied().objects()).isZero();
            double once = (double) OBJECTS * SIZE / RATE;
            assertThat(ticker.seconds()).as("the S3 side's reads at the rate; the local side's are not network")
                    .isGreaterThan(0.8 * once).isLessThan(1.2 * once);
        }
    }
}
