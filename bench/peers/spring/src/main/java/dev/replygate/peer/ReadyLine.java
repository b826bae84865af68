package dev.replygate.peer;

import java.time.Duration;
import org.springframework.boot.context.event.ApplicationReadyEvent;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.context.ApplicationListener;
import org.springframework.kafka.requestreply.ReplyingKafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Prints {@code {"event":"ready","port":N}} once the reply container has its partitions (the
 * template's {@code waitForAssignment}, which the reference advises with
 * {@code auto.offset.reset=latest}, so no early reply is missed): the bench harness waits for it.
 */
@Component
public class ReadyLine implements ApplicationListener<ApplicationReadyEvent> {
  private final ReplyingKafkaTemplate<String, String, String> template;

  public ReadyLine(ReplyingKafkaTemplate<String, String, String> template) {
    this.template = template;
  }

  @Override
  public void onApplicationEvent(ApplicationReadyEvent event) {
    try {
      if (!template.waitForAssignment(Duration.ofSeconds(60))) {
        throw new IllegalStateException("reply container got no partitions within 60 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    int port = ((WebServerApplicationContext) event.getApplicationContext()).getWebServer().getPort();
    System.out.println("{\"event\":\"ready\",\"port\":" + port + "}");
    System.out.flush();
  }
}
