package io.loraspace.jobs.output;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Spark's redaction rule applied to what runs record. */
class RedactionTest {
  @Test
  void keysMatchingSparksDefaultRegexAreRedacted() {
    Redaction r = new Redaction(null, null);
    Map<String, String> in = new LinkedHashMap<>();
    in.put("spark.hadoop.fs.s3a.secret.key", "s1");
    in.put("spark.hadoop.fs.s3a.access.key", "a1");
    in.put("spark.hadoop.fs.s3a.session.token", "t1");
    in.put("spark.ssl.keyPassword", "p1");
    in.put("spark.executor.memory", "1g");
    assertThat(r.settings(in)).containsExactly(Map.entry("spark.hadoop.fs.s3a.secret.key", Redaction.REDACTED),
        Map.entry("spark.hadoop.fs.s3a.access.key", Redaction.REDACTED),
        Map.entry("spark.hadoop.fs.s3a.session.token", Redaction.REDACTED),
        Map.entry("spark.ssl.keyPassword", Redaction.REDACTED), Map.entry("spark.executor.memory", "1g"));
  }

  @Test
  void userInfoInUrisAndValueRegexMatchesAreRemoved() {
    Redaction r = new Redaction("(?i)secret", "AKIA[A-Z0-9]{4}");
    assertThat(r.value("adapters", "s3a://AKIAXYZW:abc%2Fdef@bucket/path")).isEqualTo("s3a://" + Redaction.REDACTED
        + "@bucket/path");
    assertThat(r.value("note", "key AKIAABCD here")).isEqualTo("key " + Redaction.REDACTED + " here");
    assertThat(r.value("spark.hadoop.fs.s3a.access.key", "x")).as("custom key regex replaces the default")
        .isEqualTo("x");
  }

  @Test
  void ruleComesFromTheUsersSparkSettings() {
    Redaction r = Redaction.of(Map.of("spark.redaction.regex", "(?i)mytoken"));
    assertThat(r.isSecretKey("spark.my.MyToken")).isTrue();
    assertThat(r.isSecretKey("spark.hadoop.fs.s3a.secret.key")).isFalse();
  }

  @Test
  void jobOptionsKeepTheirValuesUnlessTheyHoldUriCredentials() {
    Redaction r = Redaction.of(Map.of());
    Map<String, String> in = new java.util.LinkedHashMap<>();
    in.put("tokens", "s3a://bucket/tokens");
    in.put("max-tokens", "512");
    in.put("model", "s3a://AKIAEXAMPLE:wJalrXUtnFEMI@bucket/model");
    in.put("spark.hadoop.fs.s3a.secret.key", "s1");
    assertThat(r.jobOptions(in)).containsExactly(Map.entry("tokens", "s3a://bucket/tokens"),
        Map.entry("max-tokens", "512"), Map.entry("model", "s3a://" + Redaction.REDACTED + "@bucket/model"),
        Map.entry("spark.hadoop.fs.s3a.secret.key", Redaction.REDACTED));
  }
}
