"""Forums: categories, topics, posts, likes, mentions, follows, polls and unread state."""
