package ferry.s3;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Reading ListObjectsV2 answers as S3 writes them. */
class ListPageTest {
    private static ListPage parse(String xml) throws IOException {
        return ListPage.parse(new ByteArrayInputStream(xml.getBytes(UTF_8)));
    }

    @Test
    void a_url_encoded_truncated_page_gives_decoded_keys_prefixes_and_the_next_token() throws IOException {
        ListPage page = parse("""
                <?xml version="1.0" encoding="UTF-8"?>
                <ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
                  <Name>bucket</Name><Prefix>data%2F</Prefix><KeyCount>3</KeyCount><MaxKeys>2</MaxKeys>
                  <Delimiter>%2F</Delimiter><IsTruncated>true</IsTruncated>
                  <Contents><Key>data%2Fa+b%2B%C3%A9.txt</Key><LastModified>2026-11-27T08:00:00.000Z</LastModified>
                    <ETag>&quot;0123abcd&quot;</ETag><Size>8192</Size><StorageClass>STANDARD</StorageClass></Contents>
                  <Contents><Key>data%2Fz</Key><LastModified>2026-11-27T08:00:01Z</LastModified>
                    <ETag>"ffff-2"</ETag><Size>0</Size></Contents>
                  <CommonPrefixes><Prefix>data%2Fsub%20dir%2F</Prefix></CommonPrefixes>
                  <EncodingType>url</EncodingType>
                  <NextContinuationToken>token/with+chars==</NextContinuationToken>
                </ListBucketResult>
                """);
        assertThat(page.objects()).containsExactly(
                new ListPage.Entry("data/a b+é.txt", 8192, Instant.parse("2026-11-27T08:00:00Z"), "0123abcd"),
                new ListPage.Entry("data/z", 0, Instant.parse("2026-11-27T08:00:01Z"), "ffff-2"));
        assertThat(page.prefixes()).containsExactly("data/sub dir/");
        assertThat(page.nextToken()).isEqualTo("token/with+chars==");
    }

    @Test
    void a_continuation_token_url_encoded_with_the_keys_is_decoded_escape_by_escape() {
        assertThat(ListPage.token("pages/img%20%2B%01%0D0999.jpg", true)).as("s3proxy's: the last key, encoded")
                .isEqualTo("pages/img +\u0001\r0999.jpg");
        assertThat(ListPage.token("token/with+chars==", true)).as("AWS's: opaque, left as it is")
                .isEqualTo("token/with+chars==");
        assertThat(ListPage.token("50%off", true)).as("no escape after all").isEqualTo("50%off");
        assertThat(ListPage.token("a%20b", false)).as("keys not encoded: the token neither").isEqualTo("a%20b");
    }

    @Test
    void the_last_page_has_no_token_and_keys_stay_as_sent_without_url_encoding() throws IOException {
        ListPage page = parse("<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>a+b%20c</Key>"
                + "<Size>1</Size></Contents><NextContinuationToken>ignored</NextContinuationToken></ListBucketResult>");
        assertThat(page.objects()).extracting(ListPage.Entry::key).containsExactly("a+b%20c");
        assertThat(page.nextToken()).isNull();
    }

    @Test
    void a_broken_answer_is_an_error_not_a_short_listing() {
        assertThatThrownBy(() -> parse("<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>a</Key>"))
                .isInstanceOf(IOException.class).hasMessageContaining("unreadable listing");
        assertThatThrownBy(() -> parse("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"))
                .isInstanceOf(IOException.class).hasMessageContaining("no continuation token");
        assertThatThrownBy(() -> parse("<ListBucketResult><Contents><Key>a</Key><Size>x</Size></Contents>"
                + "</ListBucketResult>")).isInstanceOf(IOException.class).hasMessageContaining("unreadable listing");
    }
}
