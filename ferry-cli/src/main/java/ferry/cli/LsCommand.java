package ferry.cli;

import ferry.store.Location;
import ferry.store.ObjectInfo;
import ferry.store.ObjectListing;
import ferry.store.ObjectNotFoundException;
import ferry.store.ObjectStore;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

@Command(name = "ls", mixinStandardHelpOptions = true,
        description = "List the objects at or below a location, recursively: size, last modified, key.")
final class LsCommand implements Callable<Integer> {
    @ParentCommand
    Ferry ferry;

    @Parameters(paramLabel = "LOCATION", description = "A path, file:///path or s3://bucket/prefix.")
    String location;

    @Option(names = "--json", description = "Print JSON lines, one object per line.")
    boolean json;

    @Override
    public Integer call() throws IOException {
        Location target = Location.of(location);
        ObjectStore store = ferry.stores().forLocation(target);
        if (!target.isDirectory()) {
            Optional<ObjectInfo> object = store.find(target);
            if (object.isPresent()) {
                print(object.get(), target.name());
                return Ferry.OK;
            }
            target = target.asDirectory(); // not an object: list it as a folder
        }
        ObjectListing listing = store.list(target);
        if (!listing.hasNext()) {
            throw new ObjectNotFoundException(target, "no objects at or under " + target);
        }
        while (listing.hasNext()) {
            ObjectInfo info = listing.next();
            print(info, target.relativize(info.location()));
        }
        Progress.printPassedOver(ferry.err, listing.passedOver());
        return Ferry.OK;
    }

    private void print(ObjectInfo info, String key) {
        if (json) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("key", key);
            line.put("location", info.location().toString());
            line.put("size", info.size());
            line.put("lastModified", info.lastModified().toString());
            line.put("etag", info.etag());
            if (info.crc32c() != null) {
                line.put("crc32c", info.crc32c());
            }
            ferry.out.println(Json.compact(line));
        } else {
            ferry.out.printf("%12d  %s  %s%n", info.size(), info.lastModified().toString().substring(0, 19),
                    Escapes.name(key));
        }
    }
}
