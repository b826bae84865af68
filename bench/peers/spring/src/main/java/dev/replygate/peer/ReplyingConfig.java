package dev.replygate.peer;

import java.time.Duration;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.core.ProducerFactory;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.requestreply.ReplyingKafkaTemplate;

/**
 * The reply container and template exactly as the Spring for Apache Kafka reference shows them
 * ("Using ReplyingKafkaTemplate"): one reply topic shared by every instance, a consumer group per
 * instance (so each instance sees every reply and keeps its own), {@code sharedReplyTopic} so the
 * replies meant for the other instances are logged at DEBUG, not as errors.
 */
@Configuration
public class ReplyingConfig {
  @Bean
  ConcurrentMessageListenerContainer<String, String> repliesContainer(
      ConcurrentKafkaListenerContainerFactory<String, String> containerFactory,
      @Value("${peer.reply-topic}") String replyTopic,
      @Value("${peer.group}") String group) {
    ConcurrentMessageListenerContainer<String, String> container = containerFactory.createContainer(replyTopic);
    container.getContainerProperties().setGroupId(group);
    container.setAutoStartup(false);
    return container;
  }

  @Bean
  ReplyingKafkaTemplate<String, String, String> replyingTemplate(
      ProducerFactory<String, String> producerFactory,
      ConcurrentMessageListenerContainer<String, String> repliesContainer) {
    ReplyingKafkaTemplate<String, String, String> template =
        new ReplyingKafkaTemplate<>(producerFactory, repliesContainer);
    template.setSharedReplyTopic(true);
    template.setDefaultReplyTimeout(Duration.ofSeconds(30));
    return template;
  }
}
