package dev.replygate.peer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.kafka.requestreply.ReplyingKafkaTemplate;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /echo} and {@code POST /park}: the body goes to the request topic through
 * {@link ReplyingKafkaTemplate#sendAndReceive}, the reply's value comes back as the response
 * (status from the replier's {@code rg-status} header when it sent one, 504 on the template's
 * timeout). The controller returns the future, so Spring MVC answers asynchronously and holds no
 * servlet thread per waiting request. {@code GET /pending} counts the requests waiting for a reply
 * (the bench's parked-request test reads it).
 */
@RestController
public class EchoController {
  private final ReplyingKafkaTemplate<String, String, String> template;
  private final String requestTopic;
  private final String parkTopic;
  private final AtomicInteger pending = new AtomicInteger();

  public EchoController(
      ReplyingKafkaTemplate<String, String, String> template,
      @Value("${peer.request-topic}") String requestTopic,
      @Value("${peer.park-topic}") String parkTopic) {
    this.template = template;
    this.requestTopic = requestTopic;
    this.parkTopic = parkTopic;
  }

  @PostMapping(path = "/echo")
  public CompletableFuture<ResponseEntity<String>> echo(@RequestBody String body) {
    return call(requestTopic, body, Duration.ofSeconds(30));
  }

  @PostMapping(path = "/park")
  public CompletableFuture<ResponseEntity<String>> park(@RequestBody String body) {
    return call(parkTopic, body, Duration.ofMinutes(10));
  }

  @GetMapping(path = "/pending")
  public int pending() {
    return pending.get();
  }

  private CompletableFuture<ResponseEntity<String>> call(String topic, String body, Duration timeout) {
    pending.incrementAndGet();
    return template
        .sendAndReceive(new ProducerRecord<>(topic, body), timeout)
        .thenApply(
            reply -> {
              Header status = reply.headers().lastHeader("rg-status");
              int code = status == null ? 200 : Integer.parseInt(new String(status.value(), StandardCharsets.UTF_8));
              return ResponseEntity.status(code).contentType(MediaType.APPLICATION_JSON).body(reply.value());
            })
        .exceptionally(
            err ->
                ResponseEntity.status(504)
                    .contentType(MediaType.APPLICATION_JSON)
                    .body("{\"error\":\"no reply\"}"))
        .whenComplete((r, e) -> pending.decrementAndGet());
  }
}
