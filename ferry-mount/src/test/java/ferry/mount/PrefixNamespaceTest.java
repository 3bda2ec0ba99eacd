package ferry.mount;

import static org.assertj.core.api.Assertions.assertThat;

import ferry.store.Location;
import ferry.store.local.LocalStore;
import ferry.time.Ticker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A prefix mount's folders: listed once per TTL, and the sub-folders of a folder a reader looks into ahead. */
class PrefixNamespaceTest {
    @TempDir
    Path folder;

    /** A clock that moves only when a test moves it. */
    private static final class StoppedTicker implements Ticker {
        long now;

        @Override
        public long nanoTime() {
            return now;
        }

        @Override
        public void sleepNanos(long nanos) {
            now += nanos;
        }
    }

    /** Writes each key, as its own content, below the prefix folder {@code data}. */
    private void write(String... keys) throws Exception {
        for (String key : keys) {
            Path file = folder.resolve("data").resolve(key);
            Files.createDirectories(file.getParent());
            Files.writeString(file, key);
        }
    }

    /** The namespace of the prefix folder {@code data}, with a TTL of 60 s. */
    private PrefixNamespace prefixNamespace(CountingStore store, Ticker ticker) {
        return new PrefixNamespace(store, Location.of(folder.resolve("data")).asDirectory(), Duration.ofSeconds(60),
                ticker);
    }

    private static void waitForListings(CountingStore store, int count) throws InterruptedException {
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (store.listings.get() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
    }

    @Test
    void a_folder_a_reader_lists_has_its_sub_folders_listed_ahead_one_level_deep() throws Exception {
        write("top.txt", "a/1.txt", "a/deep/2.txt", "b/3.txt", "c/4.txt");
        CountingStore store = new CountingStore(new LocalStore());
        PrefixNamespace namespace = prefixNamespace(store, Ticker.SYSTEM);

        assertThat(namespace.children("/")).extracting(Node::name).containsExactly("a", "b", "c", "top.txt");
        waitForListings(store, 4); // the root, then a, b and c ahead
        Thread.sleep(100);
        assertThat(store.listings.get()).as("a/deep waits until a reader looks into a").isEqualTo(4);

        assertThat(namespace.children("/b")).extracting(Node::name).containsExactly("3.txt");
        assertThat(namespace.lookup("/c/4.txt").object().size()).isEqualTo(7);
        assertThat(namespace.children("/a")).extracting(Node::name).containsExactly("1.txt", "deep");
        waitForListings(store, 5); // a/deep, now that a reader is in a
        assertThat(namespace.children("/a/deep")).extracting(Node::name).containsExactly("2.txt");
        Thread.sleep(100);
        assertThat(store.listings.get()).isEqualTo(5);
    }

    @Test
    void a_folder_listed_again_after_the_ttl_has_its_sub_folders_listed_ahead_again() throws Exception {
        write("a/1.txt", "b/2.txt");
        StoppedTicker ticker = new StoppedTicker();
        CountingStore store = new CountingStore(new LocalStore());
        PrefixNamespace namespace = prefixNamespace(store, ticker);

        namespace.children("/");
        waitForListings(store, 3); // the root, a and b
        namespace.children("/");
        Thread.sleep(100);
        assertThat(store.listings.get()).as("within the TTL: nothing listed again").isEqualTo(3);

        ticker.now += Duration.ofSeconds(61).toNanos();
        namespace.children("/");
        waitForListings(store, 6); // the root again, then a and b ahead again
        assertThat(store.listings.get()).isEqualTo(6);
    }

    @Test
    void a_listing_that_dies_of_an_error_fails_the_callers_sharing_it_instead_of_leaving_them_waiting()
            throws Exception {
        write("a.txt");
        CountingStore store = new CountingStore(new LocalStore());
        PrefixNamespace namespace = prefixNamespace(store, Ticker.SYSTEM);
        store.listingGate = new java.util.concurrent.CountDownLatch(1);
        store.errorOnNextListing.set(new OutOfMemoryError("injected: Java heap space"));

        Thread first = Thread.ofPlatform().start(() -> {
            try {
                namespace.children("/");
            } catch (Throwable expected) {
                // the listing's own caller gets its error
            }
        });
        waitForListings(store, 1);
        java.util.concurrent.CompletableFuture<Object> second = new java.util.concurrent.CompletableFuture<>();
        Thread waiter = Thread.ofPlatform().start(() -> { // a stat of the same folder meanwhile shares the listing
            try {
                second.complete(namespace.lookup("/a.txt"));
            } catch (Throwable e) {
                second.completeExceptionally(e);
            }
        });
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (waiter.getState() != Thread.State.WAITING && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(store.listings.get()).as("the second caller waits for the first one's listing").isEqualTo(1);
        store.listingGate.countDown();

        assertThat(second).failsWithin(java.time.Duration.ofSeconds(30))
                .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                .withCauseInstanceOf(java.io.IOException.class);
        first.join();
        store.listingGate = null;
        assertThat(namespace.lookup("/a.txt")).isNotNull(); // and the next caller lists again
        waiter.interrupt();
    }

    @Test
    void a_folder_listed_longer_ago_than_the_ttl_is_not_kept_in_memory() throws Exception {
        write("x/y/1.txt", "z/2.txt");
        StoppedTicker ticker = new StoppedTicker();
        CountingStore store = new CountingStore(new LocalStore());
        PrefixNamespace namespace = prefixNamespace(store, ticker);
        // A walk of the tree (os.walk at the start of a training job) lists every folder once.
        assertThat(namespace.children("/x/y")).extracting(Node::name).containsExactly("1.txt");
        assertThat(namespace.children("/z")).extracting(Node::name).containsExactly("2.txt");
        assertThat(namespace.holds("/x/y")).isTrue();

        ticker.now += Duration.ofSeconds(61).toNanos(); // a kernel that looks again lists it again: it is of no use
        namespace.children("/z");

        // A walk of a bucket of millions of keys would keep all their listings for the life of the mount.
        assertThat(namespace.holds("/x/y")).isFalse();
        assertThat(namespace.children("/x/y")).extracting(Node::name).containsExactly("1.txt");
    }
}
