package io.loraspace.jobs.cli;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The CLI's sub-commands, in the order {@code help} lists them. A job is registered only once it works. */
public final class JobRegistry {
  private final Map<String, Job> jobs = new LinkedHashMap<>();

  public JobRegistry(List<Job> jobs) {
    for (Job j : jobs) {
      if (this.jobs.put(j.name(), j) != null) {
        throw new IllegalArgumentException("Job '" + j.name() + "' registered twice");
      }
    }
  }

  public Job get(String name) {
    return jobs.get(name);
  }

  public Map<String, Job> all() {
    return Collections.unmodifiableMap(jobs);
  }
}
