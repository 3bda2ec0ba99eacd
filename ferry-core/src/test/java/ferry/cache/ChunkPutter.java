package ferry.cache;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A second process for {@link ChunkCacheProcessTest}: puts chunks of object "child" into a cache folder until a
 * file named "stop" appears there (or a bound is reached), printing "ready" and then a count after each put.
 * Arguments: cache folder, budget, chunk data bytes.
 */
public final class ChunkPutter {
    private ChunkPutter() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        long budget = Long.parseLong(args[1]);
        int length = Integer.parseInt(args[2]);
        try (ChunkCache cache = ChunkCache.open(dir, budget)) {
            System.out.println("ready");
            for (int i = 0; i < 100_000 && !Files.exists(dir.resolve("stop")); i++) {
                ChunkKey key = new ChunkKey("child", i);
                if (!CacheFixtures.put(cache, key, CacheFixtures.content(key, length))) {
                    System.out.println("failed " + i);
                    System.exit(1);
                }
                System.out.println(i + 1);
            }
        }
    }
}
