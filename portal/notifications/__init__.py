"""In-app notifications (live over Socket.IO), and the channels that leave the site."""
