package io.loraspace.jobs;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** What this build is: version and git commit, recorded in every manifest (from build-info.properties). */
public final class BuildInfo {
  private static final Properties PROPS = load();

  private BuildInfo() {}

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("build-info.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // Missing build info is reported as "unknown" rather than failing a job.
    }
    return p;
  }

  public static String version() {
    return PROPS.getProperty("version", "unknown");
  }

  public static String gitCommit() {
    return PROPS.getProperty("git.commit", "unknown");
  }

  public static boolean gitDirty() {
    return Boolean.parseBoolean(PROPS.getProperty("git.dirty", "false"));
  }

  public static String sparkVersionBuiltAgainst() {
    return PROPS.getProperty("spark.version", "unknown");
  }
}
