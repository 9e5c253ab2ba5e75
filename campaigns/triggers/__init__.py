"""Event triggers (事件式经营): the events that enter customers into running campaigns."""
