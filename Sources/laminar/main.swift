import Laminar
print("laminar")
